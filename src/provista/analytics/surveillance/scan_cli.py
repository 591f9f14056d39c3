"""`provista scan` (space-time clusters) and `provista transfers` (patient transfers in an outbreak)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from provista.errors import ConfigError, ProvistaError
from provista.options import choice, json_value, parse_date

FORMATS = ("table", "json")


class DecisionInputError(ProvistaError, ValueError):
    """A demand or capacity file that cannot be read as the transfer model needs it."""


def register(app: typer.Typer) -> None:
    """Add ``scan`` and ``transfers`` to ``app``."""
    app.command(name="scan")(scan)
    app.command(name="transfers")(transfers)


WarehouseOption = Annotated[
    Path, typer.Option(help="The warehouse file (provista.duckdb), opened read-only.")
]
FormatOption = Annotated[str, typer.Option("--format", help="table or json (on stdout).")]


def scan(
    warehouse: WarehouseOption,
    model: Annotated[str, typer.Option(help="permutation (cases only) or poisson (cases and population).")],
    disease: Annotated[
        str | None,
        typer.Option(help="Disease as reported (流行性感冒) or its ICD-10 code (J11); default all."),
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First onset date, YYYY-MM-DD (default: 104 weeks back).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last onset date, YYYY-MM-DD (default: the last on record).")
    ] = None,
    replicas: Annotated[int, typer.Option(help="Monte-Carlo replicas for the p-values.")] = 999,
    max_weeks: Annotated[int, typer.Option(help="Longest time window, in weeks.")] = 4,
    max_share: Annotated[float, typer.Option(help="Largest circle, as a share of the population.")] = 0.5,
    prospective: Annotated[
        bool, typer.Option(help="Only windows ending in the last week (prospective surveillance).")
    ] = False,
    adjust_time: Annotated[
        bool, typer.Option(help="Poisson model: expected cases follow the weekly totals (seasons).")
    ] = False,
    clusters: Annotated[int, typer.Option(help="Most clusters to list.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed of the Monte Carlo.")] = 2005,
    output_format: FormatOption = "table",
) -> None:
    """Space-time clusters (时空聚集性扫描): Kulldorff's scan statistic over counties × weeks.

    Counts confirmed and clinically diagnosed cases by onset week and county of report.
    """
    from provista.analytics.surveillance.scan import MODELS
    from provista.analytics.surveillance.warehouse_inputs import scan_warehouse
    from provista.cli import out, user_errors
    from provista.engine import DuckDBEngine

    with user_errors():
        choice(model, MODELS, "--model")
        choice(output_format, FORMATS, "--format")
        start = None if date_from is None else parse_date(date_from, "--from")
        end = None if date_to is None else parse_date(date_to, "--to")
        with _open(warehouse) as engine:
            assert isinstance(engine, DuckDBEngine)
            result, meta = scan_warehouse(
                engine,
                model=model,  # type: ignore[arg-type]  # checked by _choice above
                disease=disease,
                start=start,
                end=end,
                replicas=replicas,
                max_periods=max_weeks,
                max_population_share=max_share,
                prospective=prospective,
                adjust_time=adjust_time,
                max_clusters=clusters,
                seed=seed,
            )
            names = _names(engine, "SELECT code, name_zh, name_en FROM region")
    table = result.table()
    if output_format == "json":
        rows = [
            {
                **{k: json_value(v) for k, v in row.items() if k != "counties"},
                "counties": row["counties"].split(),
                "names_zh": [names[c][0] for c in row["counties"].split()],
            }
            for row in table.to_dict("records")
        ]
        payload = {
            "model": model,
            "disease": meta["disease"],
            "from": str(meta["from"]),
            "to": str(meta["to"]),
            "cases": result.total_cases,
            "replicas": result.replicas,
            "zones": result.zones,
            "windows": result.windows,
            "clusters": rows,
        }
        out.print(
            json.dumps(payload, ensure_ascii=False, indent=2), soft_wrap=True, markup=False, highlight=False
        )
        return
    from rich.table import Table

    what = meta["disease"] or "all notifiable diseases"
    view = Table(
        title=f"Space-time clusters 时空聚集 ({model} model): {what}, onset {meta['from']} to {meta['to']}; "
        f"{result.total_cases:,} cases, {len(result.counties)} counties × {len(result.periods)} weeks, "
        f"{result.zones:,} circles × {result.windows:,} windows, {result.replicas:,} replicas",
        title_justify="left",
    )
    for column, justify in (("#", "right"), ("counties (centre first)", "left"), ("weeks", "left"),
                            ("obs", "right"), ("exp", "right"), ("RR", "right"), ("LLR", "right"),
                            ("p", "right")):  # fmt: skip
        view.add_column(column, justify=justify)  # type: ignore[arg-type]
    for c in result.clusters:
        members = [c.centre, *[m for m in c.counties if m != c.centre]]
        label = "、".join(names.get(m, (m, m))[0] for m in members[:4])
        if len(members) > 4:
            label += f" … (+{len(members) - 4}, {c.radius_km:.0f} km)"
        view.add_row(
            str(c.rank), label, f"{c.start}–{c.end}", f"{c.observed:,}", f"{c.expected:.1f}",
            f"{c.relative_risk:.2f}", f"{c.llr:.2f}", _p(c.p_value, result.replicas),
        )  # fmt: skip
    _print(view)


def transfers(
    warehouse: WarehouseOption,
    demand: Annotated[
        Path | None,
        typer.Option(help="CSV: city (code or name), ward, icu, ventilated; default: a forecast of cases."),
    ] = None,
    capacity: Annotated[
        Path | None,
        typer.Option(help="CSV: city, and any of beds, icu_beds, ventilators, staff (free now) to override."),
    ] = None,
    disease: Annotated[str | None, typer.Option(help="Forecast this disease only (default all).")] = None,
    horizon: Annotated[int, typer.Option(help="Forecast weeks ahead.")] = 2,
    admission_share: Annotated[float, typer.Option(help="Share of forecast cases admitted.")] = 0.1,
    icu_share: Annotated[
        float, typer.Option(help="Share of admitted patients needing intensive care.")
    ] = 0.1,
    ventilated_share: Annotated[
        float, typer.Option(help="Share of ICU patients needing a ventilator.")
    ] = 0.5,
    max_per_pair: Annotated[int, typer.Option(help="Most patients moved from one city to another.")] = 50,
    max_km: Annotated[float, typer.Option(help="Farthest move, km between city centroids.")] = 300.0,
    output_format: FormatOption = "table",
) -> None:
    """Patient transfers between cities (患者转运建议) by linear programming, each with its reasons."""
    from provista.analytics.surveillance.warehouse_inputs import recommend_from_warehouse
    from provista.cli import console, out, user_errors

    with user_errors():
        choice(output_format, FORMATS, "--format")
        for name, share in (("--admission-share", admission_share), ("--icu-share", icu_share),
                            ("--ventilated-share", ventilated_share)):  # fmt: skip
            if not 0 <= share <= 1:
                raise ConfigError(f"{name} {share} is not between 0 and 1", hint=f"use e.g. {name} 0.1")
        if horizon < 1:
            raise ConfigError(f"--horizon {horizon} weeks", hint="use 1 or more")
        with _open(warehouse) as engine:
            given_demand = read_city_csv(demand, ("ward", "icu", "ventilated"), engine) if demand else None
            given_capacity = (
                read_city_csv(capacity, ("beds", "icu_beds", "ventilators", "staff"), engine)
                if capacity
                else None
            )
            plan, cities = recommend_from_warehouse(
                engine,
                demand=given_demand,
                capacity=given_capacity,
                disease=disease,
                horizon_weeks=horizon,
                admission_share=admission_share,
                icu_share=icu_share,
                ventilated_share=ventilated_share,
                max_per_pair=max_per_pair,
                max_km=max_km,
            )
    if output_format == "json":
        payload = {
            "message": plan.message,
            "unmet": plan.unmet,
            "patient_km": plan.patient_km,
            "moves": [{k: json_value(v) for k, v in row.items()} for row in plan.moves.to_dict("records")],
            "cities": [{k: json_value(v) for k, v in row.items()} for row in plan.cities.to_dict("records")],
        }
        out.print(
            json.dumps(payload, ensure_ascii=False, indent=2), soft_wrap=True, markup=False, highlight=False
        )
        return
    from rich.table import Table

    city_name = dict(zip(cities["code"], cities["name_zh"], strict=True))
    balance = Table(title="Demand and free capacity 需求与空余能力 (short = own demand beyond free)",
                    title_justify="left")  # fmt: skip
    for column in ("city", "ward", "icu", "vent.", "beds free", "ICU free", "vent. free", "staff free",
                   "short of", "sent", "received", "unmet"):  # fmt: skip
        balance.add_column(column, justify="left" if column in ("city", "short of") else "right")
    for row in plan.cities.to_dict("records"):
        short = ", ".join(f"{r} {row[f'short_{r}']:g}" for r in ("beds", "icu_beds", "ventilators", "staff")
                          if row[f"short_{r}"] > 0)  # fmt: skip
        unmet = sum(row[f"unmet_{k}"] for k in ("ward", "icu", "ventilated"))
        balance.add_row(
            city_name.get(row["city"], row["city"]), f"{row['demand_ward']:g}", f"{row['demand_icu']:g}",
            f"{row['demand_ventilated']:g}", f"{row['free_beds']:g}", f"{row['free_icu_beds']:g}",
            f"{row['free_ventilators']:g}", f"{row['free_staff']:g}", short or "–", str(row["sent"]),
            str(row["received"]), str(unmet),
        )  # fmt: skip
    _print(balance)
    if len(plan.moves):
        moves = Table(title="Recommended transfers 转运建议", title_justify="left")
        for column in ("from", "to", "kind", "patients", "km", "why"):
            moves.add_column(column, justify="right" if column in ("patients", "km") else "left")
        for row in plan.moves.to_dict("records"):
            moves.add_row(
                city_name.get(row["from_city"], row["from_city"]),
                city_name.get(row["to_city"], row["to_city"]),
                row["kind"], str(row["patients"]), f"{row['distance_km']:.0f}", row["reason_en"],
            )  # fmt: skip
        _print(moves)
    console.print(plan.message, soft_wrap=True)


def read_city_csv(path: Path, columns: tuple[str, ...], engine: Any) -> pd.DataFrame:
    """A per-city CSV (city as a 6-digit code, or its Chinese or English name) indexed by city code."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DecisionInputError(
            f"{path}: cannot read it as a UTF-8 CSV ({exc})", hint="check the file"
        ) from None
    frame.columns = [c.strip() for c in frame.columns]
    if "city" not in frame.columns:
        raise DecisionInputError(f"{path}: no 'city' column", hint=f"columns: city, {', '.join(columns)}")
    unknown = [c for c in frame.columns if c != "city" and c not in columns]
    if unknown:
        raise DecisionInputError(
            f"{path}: unknown column(s) {', '.join(unknown)}", hint=f"use city, {', '.join(columns)}"
        )
    cities = engine.frame("SELECT code, name_zh, name_en FROM region WHERE level = 'prefecture'")
    lookup = {str(v).strip().lower(): code for code, *names in cities.itertuples(index=False)
              for v in (code, *names)}  # fmt: skip
    rows: dict[str, dict[str, float]] = {}
    for number, record in enumerate(frame.to_dict("records"), start=2):
        city = lookup.get(record["city"].strip().lower())
        if city is None:
            raise DecisionInputError(
                f"{path}, row {number}, field 'city': no city '{record['city']}' in the warehouse",
                hint="use a prefecture-level city's 6-digit code (330100) or name (杭州市, Hangzhou)",
            )
        if city in rows:
            raise DecisionInputError(
                f"{path}, row {number}: city {record['city']} again", hint="one row per city"
            )
        values = {}
        for column in frame.columns:
            if column == "city":
                continue
            text = record[column].strip()
            try:
                value = float(text) if text else 0.0
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and value >= 0):
                raise DecisionInputError(
                    f"{path}, row {number}, field '{column}': '{text}' is not a number, zero or more",
                    hint="write a count such as 12 (empty means 0)",
                )
            values[column] = value
        rows[city] = values
    return pd.DataFrame.from_dict(rows, orient="index", columns=[c for c in frame.columns if c != "city"])


def _open(warehouse: Path) -> Any:
    from provista.engine import DuckDBEngine

    if not warehouse.is_file():
        raise ConfigError(
            f"no warehouse at {warehouse}", hint="run `provista build` first, or fix --warehouse"
        )
    return DuckDBEngine(warehouse, read_only=True)


def _names(engine: Any, sql: str) -> dict[str, tuple[str, str]]:
    frame = engine.frame(sql)
    return {code: (zh, en) for code, zh, en in frame.itertuples(index=False)}


def _p(p: float, replicas: int) -> str:
    """A Monte-Carlo p-value to the precision the replicas give (999 replicas: 3 decimals)."""
    return "–" if math.isnan(p) else f"{p:.{len(str(replicas + 1)) - 1}f}"


def _print(view: Any) -> None:
    from provista.cli import table_out

    # A terminal wraps the table to its width; a pipe or file gets it on one line per row.
    table_out(200).print(view)
