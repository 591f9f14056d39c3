"""`provista link` (files) and `provista empi …` (the warehouse's person index)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    """Add the linkage commands to ``app``."""
    app.command(name="link")(link)
    app.add_typer(empi)


def link(
    inputs: Annotated[
        list[Path],
        typer.Option("--input", "-i", help="CSV of person records; two inputs link across files."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV to write: rec_id, cluster_id.")],
    schema: Annotated[str, typer.Option(help="Layout of the inputs: febrl or person.")] = "person",
) -> None:
    """Link person records: one input de-duplicates, two link across files (FEBRL or person layout)."""
    from provista.cli import out, user_errors
    from provista.linkage.files import link_files

    with user_errors():
        with out.status("Training the model and scoring candidate pairs…"):
            outcome = link_files(inputs, schema)
        output.parent.mkdir(parents=True, exist_ok=True)
        outcome.clusters.to_csv(output, index=False)
    n = len(outcome.clusters)
    k = outcome.clusters["cluster_id"].nunique()
    out.print(
        f"{n:,} records → {k:,} clusters ({n - k:,} records joined an earlier one); "
        f"{outcome.pairs_scored:,} candidate pairs scored, {outcome.links:,} links. "
        f"Written to [bold]{output}[/]"
    )


empi = typer.Typer(
    name="empi",
    help="The master patient index: explain, join and split links; score against the truth.",
    no_args_is_help=True,
)
Warehouse = Annotated[Path | None, typer.Option(help="The warehouse (default: PROVISTA_WAREHOUSE).")]
RecordA = Annotated[str, typer.Argument(help="A record: its key, or source_file#record_ref.")]
RecordB = Annotated[str, typer.Argument(help="The other record.")]


def _open(warehouse: Path | None) -> Any:
    from provista.config import get_settings
    from provista.engine import DuckDBEngine

    return DuckDBEngine(warehouse or get_settings().warehouse_path, read_only=True)


@empi.command()
def explain(a: RecordA, b: RecordB, warehouse: Warehouse = None) -> None:
    """Why two records are one person or not: each comparison's match weight (a waterfall, in bits)."""
    from rich.table import Table

    from provista.cli import out, table_out, user_errors
    from provista.linkage.explain import explain as explain_pair

    with user_errors():
        engine = _open(warehouse)
        try:
            x = explain_pair(engine, a, b)
        finally:
            engine.close()
    table = Table(title="Match weights / 匹配权重 (log2 Bayes factor)")
    for col in ("comparison", "level", "weight", "cumulative", ""):
        table.add_column(col, justify="right" if col in ("weight", "cumulative") else "left")
    for r in x.steps.to_dict("records"):
        bar = (
            "[green]" + "█" * min(20, round(r["match_weight"]))
            if r["match_weight"] > 0
            else "[red]" + "█" * min(20, round(-r["match_weight"]))
        )
        table.add_row(
            r["comparison"], r["level"], f"{r['match_weight']:+.2f}", f"{r['cumulative']:+.2f}", bar
        )
    table_out(160).print(table)
    verdict = "the same person" if x.person_l == x.person_r else "different persons"
    out.print(
        f"Total match weight {x.match_weight:+.2f}: match probability {x.match_probability:.6f}. "
        f"The index holds them as {verdict}."
    )


def _correct(action: str, a: str, b: str, who: str, why: str, warehouse: Path | None) -> None:
    from provista.api.cli import record_from_cli
    from provista.cli import out, user_errors
    from provista.config import get_settings
    from provista.linkage.explain import resolve
    from provista.linkage.overrides import record

    with user_errors():
        path = warehouse or get_settings().warehouse_path
        engine = _open(path)
        try:
            keys = [str(resolve(engine, ref)["record_key"]) for ref in (a, b)]
        finally:
            engine.close()
        entry = record(path, action, keys[0], keys[1], who, why)
        detail = {"by": who, "why": why, "warehouse": str(path)}
        record_from_cli(f"empi.{action}", f"{keys[0]} {keys[1]}", detail)
    out.print(
        f"Recorded: {entry.action} {entry.record_a} and {entry.record_b} by {entry.who} at {entry.when} "
        f"({entry.why}). It takes effect at the next `provista build` or `provista ingest`."
    )


By = Annotated[str, typer.Option("--by", help="Who makes the correction.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept with the correction).")]


def _correction_command(action: str, doc: str) -> Any:
    def command(a: RecordA, b: RecordB, by: By, reason: Reason, warehouse: Warehouse = None) -> None:
        _correct(action, a, b, by, reason, warehouse)

    command.__doc__ = doc
    return command


empi.command(name="join")(
    _correction_command("join", "Join two records the model left apart: one person from the next build on.")
)
empi.command(name="split")(
    _correction_command("split", "Split two wrongly linked records: the weakest link goes at the next build.")
)


@empi.command()
def history(warehouse: Warehouse = None) -> None:
    """Every correction ever recorded: who, when, what and why."""
    from rich.table import Table

    from provista.cli import table_out, user_errors
    from provista.config import get_settings
    from provista.linkage.overrides import history as read_history

    with user_errors():
        entries = read_history(warehouse or get_settings().warehouse_path)
    table = Table(title="Corrections to the person index / 人工关联修正")
    for col in ("when", "who", "action", "record A", "record B", "why"):
        table.add_column(col)
    for e in entries:
        table.add_row(e.when, e.who, e.action, e.record_a, e.record_b, e.why)
    table_out(200).print(table)


@empi.command()
def score(
    sources: Annotated[Path, typer.Option(help="A synthetic province (with truth/).")],
    warehouse: Warehouse = None,
) -> None:
    """Pairwise precision, recall and F1 of the person index against the synthetic truth."""
    from provista.cli import out, user_errors
    from provista.linkage.evaluate import score_person_index

    with user_errors():
        engine = _open(warehouse)
        try:
            s = score_person_index(engine, sources)
            stats = engine.frame("SELECT records, note FROM link_model")
        finally:
            engine.close()
    out.print(
        f"{s['records']:,} identity records; true pairs {s['true_pairs']:,}, linked pairs "
        f"{s['predicted_pairs']:,}, correct {s['correct_pairs']:,}\n"
        f"precision {s['precision']:.4%}  recall {s['recall']:.4%}  F1 {s['f1']:.4%}"
    )
    if not stats.empty and stats.loc[0, "note"]:
        out.print(f"[yellow]Note:[/] {stats.loc[0, 'note']}")
