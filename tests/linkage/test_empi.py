"""The person index on the tiny province: scored against its truth, explained, corrected by people."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from provista.engine import DuckDBEngine
from provista.ingest.pipeline import build
from provista.linkage.evaluate import score_person_index
from provista.linkage.explain import explain
from provista.linkage.model import score
from provista.linkage.overrides import OverrideError, effective, history, record
from tests.conftest import KEY


@pytest.fixture
def engine(warehouse: Path):
    eng = DuckDBEngine(warehouse, read_only=True)
    yield eng
    eng.close()


def test_person_index_meets_the_goal_against_the_truth(tiny: Path, engine: DuckDBEngine) -> None:
    s = score_person_index(engine, tiny)
    assert s["precision"] >= 0.995, s
    assert s["f1"] >= 0.99, s
    # The model had work to do: records without an ID number were linked by it, not by a rule.
    no_id = engine.scalar("SELECT count(*) FROM identity WHERE id_person_key IS NULL AND kind = 'patient'")
    linked = engine.scalar("SELECT count(*) FROM link_pair WHERE match_probability >= 0.99")
    assert no_id > 20 and linked > 20


def test_every_record_of_a_person_carries_one_key_everywhere(engine: DuckDBEngine) -> None:
    mismatched = engine.scalar(
        "SELECT count(*) FROM patient_record p JOIN identity i ON i.record_key = p.patient_key "
        "WHERE p.person_key IS DISTINCT FROM i.person_key"
    )
    assert mismatched == 0
    orphans = engine.scalar(
        "SELECT count(*) FROM encounter e WHERE e.person_key NOT IN (SELECT person_key FROM person)"
    )
    assert orphans == 0


def test_the_identity_table_holds_no_identifier(tiny: Path, engine: DuckDBEngine) -> None:
    sample = engine.frame("SELECT * FROM identity LIMIT 2000").astype(str).to_string()
    patients = (tiny / "hospitals").rglob("patients.csv")
    first = next(patients).read_text(encoding="gb18030", errors="ignore").splitlines()[1:6]
    for line in first:
        for value in line.split(","):
            value = value.strip('"')
            if len(value) >= 11 and value.isdigit():  # phones and ID numbers
                assert value not in sample


def test_explain_gives_the_weights_that_add_up_to_the_score(engine: DuckDBEngine) -> None:
    pair = engine.frame(
        "SELECT record_key_l, record_key_r, match_weight FROM link_pair ORDER BY match_probability LIMIT 1"
    ).iloc[0]
    x = explain(engine, pair["record_key_l"], pair["record_key_r"])
    assert abs(x.steps["match_weight"].sum() - x.match_weight) < 1e-6
    assert abs(x.match_weight - pair["match_weight"]) < 1e-6
    assert {"id_number", "birth_date", "surname", "given_name"} <= set(x.steps["comparison"])


def test_a_split_and_a_join_survive_a_rebuild(tiny: Path, warehouse: Path, tmp_path: Path) -> None:
    """Corrections are kept beside the warehouse and applied by the next build. The rebuild reads only the
    (small) patient files that hold the four records: too few for the model, so it links by valid ID
    number, which would join the split pair (one ID number) and leave the joined pair apart."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    sizes = "WITH sizes AS (SELECT source_file, count(*) AS n FROM identity GROUP BY 1)"
    with DuckDBEngine(copy, read_only=True) as eng:
        linked = eng.frame(
            f"""{sizes}, rec AS (SELECT * FROM identity JOIN sizes USING (source_file)
                                WHERE kind = 'patient' AND id_valid)
            SELECT a.record_key AS a, b.record_key AS b FROM rec a JOIN rec b
            ON a.id_person_key = b.id_person_key AND a.record_key < b.record_key
            AND a.source_file <> b.source_file ORDER BY a.n + b.n, a.record_key LIMIT 1"""
        ).iloc[0]
        apart = eng.frame(
            f"""{sizes} SELECT record_key FROM identity JOIN sizes USING (source_file)
            WHERE kind = 'patient' AND person_key IN
                (SELECT person_key FROM identity GROUP BY 1 HAVING count(*) = 1)
            ORDER BY n, record_key LIMIT 2"""
        )["record_key"].tolist()
        keys = [linked["a"], linked["b"], *apart]
        files = eng.frame("SELECT DISTINCT source_file FROM identity WHERE record_key IN (?, ?, ?, ?)", keys)[
            "source_file"
        ]
        before = dict(eng.frame("SELECT record_key, person_key FROM identity").itertuples(index=False))
    assert before[linked["a"]] == before[linked["b"]] and before[apart[0]] != before[apart[1]]
    with pytest.raises(OverrideError):
        record(copy, "split", linked["a"], linked["b"], "", "no name given")
    record(copy, "split", linked["a"], linked["b"], "dr.li", "two sisters, same birthday")
    record(copy, "join", apart[0], apart[1], "dr.li", "same person, ID typed wrongly")
    sources = tmp_path / "sources"
    shutil.copytree(tiny / "registry", sources / "registry")
    for name in files:
        (sources / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tiny / name, sources / name)
    build(sources, copy, KEY)
    with DuckDBEngine(copy, read_only=True) as eng:
        key = dict(eng.frame("SELECT record_key, person_key FROM identity").itertuples(index=False))
    assert set(keys) <= set(key) and len(key) < len(before)  # the same records, in a smaller build
    assert key[linked["a"]] != key[linked["b"]]
    assert key[apart[0]] == key[apart[1]]
    assert [o.who for o in history(copy)] == ["dr.li", "dr.li"] and len(effective(copy)) == 2


def test_the_empi_commands(warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    monkeypatch.setenv("PROVISTA_APP_DB", f"sqlite:///{tmp_path / 'app.sqlite'}")  # where joins are audited

    from provista.cli import app

    runner = CliRunner()
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    with DuckDBEngine(copy, read_only=True) as eng:
        a, b = eng.frame("SELECT record_key_l, record_key_r FROM link_pair LIMIT 1").iloc[0]
        sql = "SELECT source_file, record_ref FROM identity WHERE record_key = ?"
        source, ref = eng.frame(sql, [b]).iloc[0]
    env = {"COLUMNS": "200"}
    shown = runner.invoke(app, ["empi", "explain", a, f"{source}#{ref}", "--warehouse", str(copy)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "Total match weight" in shown.output and "same person" in shown.output
    missing = runner.invoke(app, ["empi", "explain", a, "nowhere#1", "--warehouse", str(copy)], env=env)
    assert missing.exit_code == 2 and "no identity record" in missing.output
    args = ["--by", "dr.wang", "--reason", "father and son", "--warehouse", str(copy)]
    done = runner.invoke(app, ["empi", "split", a, b, *args])
    assert done.exit_code == 0 and "next `provista build`" in done.output
    listed = runner.invoke(app, ["empi", "history", "--warehouse", str(copy)], env=env)
    assert "dr.wang" in listed.output and "father and son" in listed.output


def test_scoring_in_chunks_finds_the_same_pairs_and_persons(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province of millions scores its pairs in parts (chunks × chunks); the parts must add up to the
    pairs and persons of scoring at once. Here the tiny province is split as a large one would be."""
    import provista.linkage.empi as empi

    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse, copy)
    asked: list[int] = []

    def spy(linker, threshold, chunks=1):  # type: ignore[no-untyped-def]
        asked.append(chunks)
        return score(linker, threshold, chunks)

    monkeypatch.setattr(empi, "score", spy)
    with DuckDBEngine(copy) as eng:
        # Four parts a side (16 in all): enough to show that parts add up, where 1,500 representatives a
        # chunk (37 a side, 1,369 parts) took four minutes of the suite for no more.
        per_chunk = -(-int(eng.scalar("SELECT count(*) FROM identity")) // 4)
        monkeypatch.setattr(empi, "REPRESENTATIVES_PER_CHUNK", per_chunk)
        stats = empi.link_persons(eng, [], lambda *a: None)
        chunked = eng.frame("SELECT * FROM link_pair ORDER BY record_key_l, record_key_r")
        persons = eng.frame("SELECT record_key, person_key FROM identity ORDER BY ALL")
    assert asked == [-(-stats.representatives // per_chunk)] and asked[0] >= 3
    with DuckDBEngine(warehouse, read_only=True) as eng:
        whole = eng.frame("SELECT * FROM link_pair ORDER BY record_key_l, record_key_r")
        assert persons.equals(eng.frame("SELECT record_key, person_key FROM identity ORDER BY ALL"))
    assert len(chunked) == len(whole) > 20
    assert chunked[["record_key_l", "record_key_r"]].equals(whole[["record_key_l", "record_key_r"]])
    assert np.allclose(chunked["match_probability"], whole["match_probability"], rtol=0, atol=1e-12)
