"""How many candidate pairs each linkage blocking rule makes, and which true pairs the rules cover.

    python bench/bench_blocking.py --warehouse FILE --sources DIR [--label small]

Reads a built warehouse's ``identity`` table and takes the records the model scores (one representative per
valid ID number, every record without one) with ``linkage/empi.py``'s own functions. For each rule of
``linkage.model.BLOCKING`` it counts the pairs the rule makes (Σ n(n−1)/2 over its keys) and its largest
block, and, with ``truth/identities.csv``, the share of true pairs (two representatives of one person) whose
records agree on the rule; then the share the rules cover together. A rule whose blocks grow with the
population makes pairs that grow with its square: run this at two sizes before changing a rule. Nothing is
scored and nothing is timed. Writes bench/results/blocking-<label>.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import save
from provista.engine import DuckDBEngine
from provista.linkage.empi import choose_representatives, representatives_sql
from provista.linkage.model import BLOCKING
from provista.linkage.overrides import effective


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--sources", type=Path, required=True, help="the province's sources (its truth/)")
    parser.add_argument("--label", default="small")
    args = parser.parse_args()
    # the records the model scores, chosen by the build's own code (people's corrections included)
    engine = DuckDBEngine(args.warehouse, read_only=True)
    choose_representatives(engine, effective(args.warehouse))
    listed = [c for c in engine.frame("SELECT * FROM identity LIMIT 0").columns if c != "record_key"]
    con = engine.con
    con.execute(f"CREATE TEMP TABLE rep AS {representatives_sql(listed, key='record_key')}")
    truth = args.sources / "truth" / "identities.csv"
    con.execute(
        f"""CREATE TEMP TABLE r AS SELECT rep.*, t.true_person_id FROM rep
            LEFT JOIN read_csv('{truth}', all_varchar = true) t USING (source_file, record_ref)"""
    )
    con.execute(
        """CREATE TEMP TABLE truth_pair AS SELECT a.record_key AS l, b.record_key AS r FROM r a JOIN r b
            ON a.true_person_id = b.true_person_id AND a.record_key < b.record_key"""
    )
    columns = {row[0] for row in con.execute("DESCRIBE r").fetchall()}
    records = con.execute("SELECT count(*) FROM r").fetchone()[0]
    true_pairs = con.execute("SELECT count(*) FROM truth_pair").fetchone()[0]
    rules, names = [], []
    for i, rule in enumerate(r for r in BLOCKING if all(c in columns for c in r)):
        name = f"rule_{i}"
        keys, present = ", ".join(rule), " AND ".join(f"{c} IS NOT NULL" for c in rule)
        pairs, largest = con.execute(
            f"SELECT coalesce(sum(n * (n - 1) / 2), 0), max(n) FROM "
            f"(SELECT count(*) AS n FROM r WHERE {present} GROUP BY {keys})"
        ).fetchone()
        agree = " AND ".join(f"a.{c} = b.{c}" for c in rule)
        con.execute(f"ALTER TABLE truth_pair ADD COLUMN {name} BOOLEAN")
        con.execute(
            f"""UPDATE truth_pair SET {name} = coalesce({agree}, false) FROM r a, r b
                WHERE a.record_key = truth_pair.l AND b.record_key = truth_pair.r"""
        )
        covered = con.execute(f"SELECT avg({name}::INT) FROM truth_pair").fetchone()[0]
        rules.append(
            {
                "rule": " + ".join(c.removesuffix("_t") for c in rule),
                "pairs": int(pairs),
                "largest_block": int(largest or 0),
                "true_pairs_covered": covered,
            }
        )
        names.append(name)
    together = con.execute(f"SELECT avg(({' OR '.join(names)})::INT) FROM truth_pair").fetchone()[0]
    print(f"{records:,} records scored by the model, {true_pairs:,} true pairs among them")
    print(f"{'rule':45s} {'pairs':>14s} {'largest block':>14s} {'true pairs covered':>19s}")
    for row in rules:
        share = "–" if row["true_pairs_covered"] is None else f"{row['true_pairs_covered']:.4f}"
        print(f"{row['rule']:45s} {row['pairs']:>14,} {row['largest_block']:>14,} {share:>19s}")
    print(f"{'all rules':45s} {sum(r['pairs'] for r in rules):>14,} {'':>14s} {together or 0:>19.4f}")
    save(
        f"blocking-{args.label}",
        {
            "benchmark": "blocking",
            "label": args.label,
            "records": records,
            "true_pairs": true_pairs,
            "rules": rules,
            "true_pairs_covered_by_all": together,
        },
    )


if __name__ == "__main__":
    main()
