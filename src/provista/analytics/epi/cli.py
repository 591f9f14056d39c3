"""`provista epi rates`: registered on the main command by ``register``."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from provista.analytics.epi.rates import EpiInputError
from provista.analytics.epi.standards import STANDARD_NAMES, STANDARDS
from provista.analytics.epi.warehouse import GROUPINGS
from provista.errors import ConfigError
from provista.options import choice, json_value, parse_date

FORMATS = ("table", "csv", "json")

epi = typer.Typer(
    name="epi",
    help="Notifiable-disease statistics (法定传染病统计): incidence, age-standardised rates.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``epi`` command group to ``app``."""
    app.add_typer(epi)


@epi.command()
def rates(
    warehouse: Annotated[Path, typer.Option(help="The warehouse file (provista.duckdb), opened read-only.")],
    by: Annotated[str, typer.Option(help=f"Group by: {'|'.join(GROUPINGS)}.")],
    date_from: Annotated[str, typer.Option("--from", help="First onset date, YYYY-MM-DD (included).")],
    date_to: Annotated[str, typer.Option("--to", help="Last onset date, YYYY-MM-DD (included).")],
    standard: Annotated[
        str | None, typer.Option(help=f"Also age-standardise to: {'|'.join(STANDARDS)}.")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, csv or json (on stdout).")] = "table",
    per: Annotated[int, typer.Option(help="Rates per this many person-years.")] = 100_000,
    annualise: Annotated[
        bool, typer.Option(help="Divide by the period's length in years (per person-year); else per period.")
    ] = True,
    province: Annotated[
        str, typer.Option(help="Province whose census gives the sex × age structure of each county.")
    ] = "zhejiang",
) -> None:
    """Incidence (发病率) per 100,000 with exact Poisson limits; standardised rates (标化率) by --standard.

    Counts confirmed and clinically diagnosed cases (not suspected cases or carriers) by onset date.
    """
    from provista.analytics.epi.warehouse import incidence_from_warehouse
    from provista.cli import console, out, table_out, user_errors
    from provista.engine import DuckDBEngine

    with user_errors():
        choice(by, tuple(GROUPINGS), "--by")
        choice(output_format, FORMATS, "--format")
        if standard is not None:
            choice(standard, STANDARDS, "--standard")
        if per <= 0:
            raise ConfigError(f"--per {per} is not positive", hint="use e.g. --per 100000")
        start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
        if end < start:
            raise ConfigError(f"--to {end} is before --from {start}", hint="swap the dates")
        if not warehouse.is_file():
            raise EpiInputError(
                f"no warehouse at {warehouse}", hint="run `provista build` first, or fix --warehouse"
            )
        with DuckDBEngine(warehouse, read_only=True) as engine:
            table = incidence_from_warehouse(
                engine,
                [by],
                start,
                end,
                standard=standard,
                province=province,
                multiplier=per,
                annualise=annualise,
            )
            if by in ("county", "city"):
                names = engine.frame("SELECT code, name_zh FROM region")
                table.insert(
                    1, "name", table[by].map(dict(zip(names["code"], names["name_zh"], strict=True)))
                )
    for what in ("cases_without_group", "cases_without_age"):
        if table.attrs.get(what):
            console.print(
                f"[yellow]Warning:[/] {table.attrs[what]:,} {what.replace('_', ' ')} left out", soft_wrap=True
            )
    if output_format == "csv":
        out.print(table.to_csv(index=False), end="", soft_wrap=True, markup=False, highlight=False)
    elif output_format == "json":
        records = [{k: json_value(v) for k, v in row.items()} for row in table.to_dict("records")]
        meta = {"from": str(start), "to": str(end), "by": by, "per": per, "years": table.attrs["years"]}
        if standard:
            meta["standard"] = standard
        text = json.dumps({**meta, "rows": records}, ensure_ascii=False, indent=2)
        out.print(text, soft_wrap=True, markup=False, highlight=False)
    else:
        # A terminal wraps the table to its width; a pipe or file gets it on one line per row.
        target = table_out(160)
        target.print(_rich_table(table, by, start, end, per, standard, annualise))


def _rich_table(
    table: pd.DataFrame, by: str, start: date, end: date, per: int, standard: str | None, annualise: bool
) -> Any:
    from rich.table import Table

    unit = f"per {per:,}" + (" person-years" if annualise else f" ({start}–{end})")
    title = f"Incidence 发病率 by {by}, onset {start} to {end}, {unit}"
    if standard:
        title += f"; standardised to {STANDARD_NAMES[standard]}"
    view = Table(title=title, title_justify="left")
    label_columns = [by, "name"] if "name" in table.columns else [by]
    for col in label_columns:
        view.add_column(col)
    view.add_column("cases", justify="right")
    view.add_column("population", justify="right")
    view.add_column("rate (95% CI)", justify="right")
    if standard:
        view.add_column("standardised (gamma CI)", justify="right")
        view.add_column("Dobson CI", justify="right")
    for row in table.to_dict("records"):
        cells = [str(row[c]) for c in label_columns]
        cells += [
            f"{row['cases']:,}",
            f"{row['population']:,.0f}",
            _ci(row["rate"], row["lower"], row["upper"]),
        ]
        if standard:
            cells += [
                _ci(row["adj_rate"], row["lower_gamma"], row["upper_gamma"]),
                _ci(None, row["lower_dobson"], row["upper_dobson"]),
            ]
        view.add_row(*cells)
    return view


def _ci(value: float | None, lower: float, upper: float) -> str:
    def fmt(v: float) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"

    limits = f"{fmt(lower)}–{fmt(upper)}"
    return limits if value is None else f"{fmt(value)} ({limits})"
