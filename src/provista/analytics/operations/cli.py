"""`provista indicators`: the operations indicator table, registered on the main command by ``register``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from provista.analytics.operations.measures import BY_KEYS, GRAINS
from provista.errors import ConfigError
from provista.options import choice, json_value, parse_date

FORMATS = ("table", "csv", "json")


def register(app: typer.Typer) -> None:
    """Add the ``indicators`` command to ``app``."""
    app.command(name="indicators")(indicators)


def indicators(
    warehouse: Annotated[
        Path | None, typer.Option(help="The warehouse file (provista.duckdb), opened read-only.")
    ] = None,
    by: Annotated[str, typer.Option(help=f"One row per: {'|'.join(BY_KEYS)}.")] = "hospital",
    date_from: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD (included).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (included).")] = None,
    grain: Annotated[str, typer.Option(help="period (one row per unit) or month (per unit and month).")] = (
        "period"
    ),
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="table (indicators only), csv or json (indicators, numerators and denominators), on stdout.",
        ),
    ] = "table",
    definitions: Annotated[
        bool,
        typer.Option(
            "--definitions", help="Print the indicator definitions (Markdown) and exit; needs no warehouse."
        ),
    ] = False,
) -> None:
    """Hospital operations indicators (医院运营指标): occupancy, turnover, length of stay, mortality, surgery,
    equipment and operating-room use, per hospital, department, city, county or province, for a period.

    Bed view (midnight census) and patient view (discharged stays) follow DOMAIN.md. Run with --definitions
    for every formula.
    """
    from provista.analytics.operations.definitions import definitions_markdown, load_definitions
    from provista.analytics.operations.indicators import indicator_table
    from provista.cli import out, table_out, user_errors
    from provista.engine import DuckDBEngine

    with user_errors():
        if definitions:
            out.print(definitions_markdown(), end="", soft_wrap=True, markup=False, highlight=False)
            return
        choice(by, tuple(BY_KEYS), "--by")
        choice(grain, GRAINS, "--grain")
        choice(output_format, FORMATS, "--format")
        start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
        if end < start:
            raise ConfigError(f"--to {end} is before --from {start}", hint="swap the dates")
        if warehouse is None or not warehouse.is_file():
            raise ConfigError(
                f"no warehouse at {warehouse}" if warehouse else "--warehouse is missing",
                hint="run `provista build` first, and give its file with --warehouse",
            )
        with DuckDBEngine(warehouse, read_only=True) as engine:
            table = indicator_table(engine, by, start, end, grain=grain)
        defs = load_definitions()
    if grain == "period":
        table = table.drop(columns=["period"])
    if output_format == "csv":
        out.print(table.to_csv(index=False), end="", soft_wrap=True, markup=False, highlight=False)
    elif output_format == "json":
        records = [{k: json_value(v) for k, v in row.items()} for row in table.to_dict("records")]
        meta = {"from": str(start), "to": str(end), "by": by, "grain": grain}
        units = {i.id: i.unit for i in defs.indicators}
        text = json.dumps({**meta, "units": units, "rows": records}, ensure_ascii=False, indent=2)
        out.print(text, soft_wrap=True, markup=False, highlight=False)
    else:
        target = table_out(400)
        target.print(_rich_table(table, by, start, end, [i.id for i in defs.indicators]))


def _rich_table(table: pd.DataFrame, by: str, start: date, end: date, ids: list[str]) -> Any:
    from rich.table import Table

    view = Table(
        title=f"Operations indicators 医院运营指标 by {by}, {start} to {end} "
        "(csv or json add the numerators and denominators)",
        title_justify="left",
    )
    labels = [c for c in (*BY_KEYS[by], "name_zh", "period") if c in table.columns]
    for col in labels:
        view.add_column(col)
    for col in ids:
        view.add_column(col, justify="right")
    for row in table.itertuples(index=False):
        cells = [str(getattr(row, c)) for c in labels]
        cells += ["–" if pd.isna(getattr(row, c)) else f"{getattr(row, c):.2f}" for c in ids]
        view.add_row(*cells)
    return view
