"""`provista export` (k-anonymous records), `provista publish` (differentially private tables, and its
`ledger`), `provista rekey` (old → new pseudonyms after a key rotation)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provista.privacy.kanon import AGE_LEVELS, COARSEST, DATE_LEVELS, REGION_LEVELS, Generalisation


def register(app: typer.Typer) -> None:
    """Add the privacy commands to ``app``."""
    app.command(name="export")(export)
    group = typer.Typer(add_completion=False)
    group.callback(invoke_without_command=True)(publish)
    group.command(name="ledger")(ledger)
    app.add_typer(group, name="publish")
    app.command(name="rekey")(rekey)


Warehouse = Annotated[Path | None, typer.Option(help="The warehouse (default: PROVISTA_WAREHOUSE).")]


def _warehouse(path: Path | None) -> Path:
    from provista.config import get_settings

    return path or get_settings().warehouse_path


def _level(name: str, levels: tuple[str, ...], option: str) -> int:
    from provista.errors import ProvistaError

    if name not in levels:
        raise ProvistaError(f"{option} {name!r} is not a level", hint=f"choose one of {', '.join(levels)}")
    return levels.index(name)


def export(
    table: Annotated[str, typer.Option(help="What to export: encounter or case_report.")],
    output: Annotated[Path, typer.Option(help="File to write (.csv or .parquet).")],
    warehouse: Warehouse = None,
    k: Annotated[
        int, typer.Option(help="Every record must share its quasi-identifiers with k-1 others.")
    ] = 5,
    max_suppressed: Annotated[
        float, typer.Option(help="Largest share of records that may be left out (in groups smaller than k).")
    ] = 0.01,
    coarsest_age: Annotated[str, typer.Option(help="year, 5-year or 10-year.")] = AGE_LEVELS[COARSEST.age],
    coarsest_date: Annotated[str, typer.Option(help="day, month, quarter or year.")] = DATE_LEVELS[
        COARSEST.date
    ],
    coarsest_region: Annotated[str, typer.Option(help="county, city or province.")] = REGION_LEVELS[
        COARSEST.region
    ],
) -> None:
    """Export patient-level records, generalised until k-anonymous; refuses (writes nothing) if k cannot
    be reached within the allowed generalisation."""
    from provista.api.cli import record_from_cli
    from provista.cli import out, user_errors
    from provista.privacy.export import export_table, report_path

    with user_errors():
        coarsest = Generalisation(
            _level(coarsest_age, AGE_LEVELS, "--coarsest-age"),
            _level(coarsest_date, DATE_LEVELS, "--coarsest-date"),
            _level(coarsest_region, REGION_LEVELS, "--coarsest-region"),
        )
        result = export_table(_warehouse(warehouse), table, output, k, max_suppressed, coarsest)
        record_from_cli(
            "export.records",
            str(output.resolve()),
            {
                "table": table,
                "k": result.k,
                "records": len(result.frame),
                "suppressed": result.suppressed,
                "generalisation": result.generalisation.describe(),
            },
        )
    out.print(
        f"{len(result.frame):,} of {result.records:,} records written to [bold]{output}[/], "
        f"{result.k}-anonymous with {result.generalisation.describe()}; {result.suppressed:,} suppressed "
        f"({result.suppressed_share:.2%}); smallest group {result.smallest_group}. "
        f"Report: {report_path(output)}"
    )


def publish(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Option(help="The table to publish (e.g. mart_cases_weekly).")] = None,
    epsilon: Annotated[float | None, typer.Option(help="Privacy budget this table spends (ε).")] = None,
    output: Annotated[Path | None, typer.Option(help="CSV to write.")] = None,
    warehouse: Warehouse = None,
    release: Annotated[
        str, typer.Option(help="The release (publication) the budget belongs to.")
    ] = "default",
    budget: Annotated[
        float | None, typer.Option(help="Total ε of the release, when it is new (fixed from then on).")
    ] = None,
    delta: Annotated[
        float, typer.Option(help="δ this table spends (the threshold's failure chance).")
    ] = 1e-6,
    delta_budget: Annotated[float, typer.Option(help="Total δ of the release, when it is new.")] = 1e-5,
) -> None:
    """Publish a table with differential privacy: noise per count, its 95% error beside it, the budget
    spent recorded in the ledger first (refused when the release's budget is spent)."""
    if ctx.invoked_subcommand is not None:
        return
    from provista.api.cli import record_from_cli
    from provista.cli import out, user_errors
    from provista.errors import ProvistaError
    from provista.privacy.publish import publish_table

    with user_errors():
        if table is None or epsilon is None or output is None:
            raise ProvistaError(
                "publish needs --table, --epsilon and --output",
                hint="e.g. provista publish --table mart_cases_weekly --epsilon 0.5 --output cases.csv "
                "--release 2025-annual --budget 2",
            )
        report = publish_table(
            _warehouse(warehouse),
            table,
            epsilon,
            output,
            release=release,
            budget=None if budget is None else (budget, delta_budget),
            delta=delta,
        )
        record_from_cli(
            "publish.table",
            str(output.resolve()),
            {
                "table": table,
                "release": release,
                "epsilon": epsilon,
                "delta": delta,
                "ledger_entry": report["ledger_entry"],
                "cells": report["cells_released"],
            },
        )
    noise = ", ".join(f"{name} ±{n['half_width_95']} (95%)" for name, n in report["noise"].items())
    out.print(
        f"{report['cells_released']:,} of {report['cells_in_the_data']:,} cells released to "
        f"[bold]{output}[/] "
        f"under release {release!r} (ledger entry {report['ledger_entry']}, ε={epsilon:g}, δ={delta:g}); "
        f"noise: {noise}; {report['records_left_out_by_the_cap']:,} records beyond "
        f"{report['max_records_per_person']} per person left out."
    )


def ledger(warehouse: Warehouse = None) -> None:
    """Show each release's budget, what its tables spent and what is left (the hash chain verified)."""
    from rich.table import Table

    from provista.cli import out, user_errors
    from provista.privacy.ledger import Ledger, ledger_path

    path = ledger_path(_warehouse(warehouse))
    with user_errors():
        releases = Ledger(path).releases()
    if not releases:
        out.print(f"No release in {path} yet.")
        return
    table = Table(title=f"Privacy budget ledger / 隐私预算台账 ({path}; hash chain verified)")
    for col in ("release", "entry", "when", "by", "table", "ε", "δ", "ε left", "δ left"):
        table.add_column(col)
    for r in releases.values():
        spent_e = spent_d = 0.0
        for s in r.spends:
            spent_e += float(s["epsilon"])
            spent_d += float(s["delta"])
            table.add_row(
                r.name,
                str(s["seq"]),
                s["at"],
                s["by"],
                s["table"],
                f"{s['epsilon']:g}",
                f"{s['delta']:g}",
                f"{r.epsilon_budget - spent_e:g}",
                f"{r.delta_budget - spent_d:g}",
            )
        left = (f"{r.epsilon_budget - r.epsilon_spent:g}", f"{r.delta_budget - r.delta_spent:g}")
        table.add_row(
            r.name, "", "", "", "[bold]budget[/]", f"{r.epsilon_budget:g}", f"{r.delta_budget:g}", *left
        )
    out.print(table)


def rekey(
    old_warehouse: Annotated[Path, typer.Option(help="The warehouse built with the retired key.")],
    new_warehouse: Annotated[Path, typer.Option(help="The warehouse built with the new key.")],
    output: Annotated[Path, typer.Option(help="CSV to write: old_person_key, new_person_key (mode 600).")],
) -> None:
    """Map old person pseudonyms to new ones after a key rotation (through the records both hold)."""
    from provista.api.cli import record_from_cli
    from provista.cli import out, user_errors
    from provista.privacy.keys import rekeying_map, write_map

    with user_errors():
        pairs = rekeying_map(old_warehouse, new_warehouse)
        write_map(pairs, output)
        record_from_cli(
            "keys.rekey",
            str(output.resolve()),
            {"old": str(old_warehouse.resolve()), "new": str(new_warehouse.resolve()), "persons": len(pairs)},
        )
    out.print(
        f"{len(pairs):,} persons mapped, written to [bold]{output}[/] (readable only by you: it links the "
        "old pseudonyms to the new, so keep it like a key and delete it once used)."
    )
