"""`provista forecast` and `provista forecast backtest`, added to the main command by ``register``."""

from __future__ import annotations

import json
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from provista.analytics.forecast.models import BASELINE, DEFAULT_MODEL, LEVELS, MODELS, ForecastError
from provista.analytics.forecast.series import CensusSeries
from provista.errors import ConfigError
from provista.options import json_value

FORMATS = ("table", "csv", "json")
MAX_HORIZON = 28


def register(app: typer.Typer) -> None:
    """Add ``forecast`` (and its ``backtest``) to ``app``."""
    group = typer.Typer(add_completion=False)
    group.callback(invoke_without_command=True)(forecast)
    group.command(name="backtest")(backtest)
    app.add_typer(group, name="forecast")


Warehouse = Annotated[
    Path | None, typer.Option(help="The warehouse file (provista.duckdb), opened read-only.")
]
Hospital = Annotated[str | None, typer.Option(help="Only this hospital (its id, e.g. H3301020031).")]
Department = Annotated[str | None, typer.Option(help="Only this department (its code, e.g. RES).")]
Format = Annotated[str, typer.Option("--format", help="table, csv or json, on standard output.")]


def _check(warehouse: Path | None, output_format: str, horizon: int) -> Path:
    if output_format not in FORMATS:
        raise ConfigError(f"unknown --format '{output_format}'", hint="use --format table, csv or json")
    if not 1 <= horizon <= MAX_HORIZON:
        raise ConfigError(
            f"--horizon {horizon} is outside 1 to {MAX_HORIZON} days",
            hint=f"use --horizon 7, 14, 21 or {MAX_HORIZON}: the backtest scores up to {MAX_HORIZON} days",
        )
    if warehouse is None or not warehouse.is_file():
        raise ConfigError(
            f"no warehouse at {warehouse}" if warehouse else "--warehouse is missing",
            hint="run `provista build` first, and give its file with --warehouse",
        )
    return warehouse


def _series(
    warehouse: Path, hospital: str | None, department: str | None, *, everything: bool = False
) -> list[CensusSeries]:
    """The series asked for: one hospital's total and departments, one department (in one hospital or in
    each), every hospital's total (nothing asked), or every series (``everything``, the backtest)."""
    from provista.analytics.forecast.series import census_series, last_census_day, read_census
    from provista.engine import DuckDBEngine

    with DuckDBEngine(warehouse, read_only=True) as engine:
        census = read_census(engine, [hospital] if hospital else None)
        end = last_census_day(engine)
    if census.empty:
        raise ForecastError(
            f"no bed census for hospital {hospital}" if hospital else "the warehouse has no bed census",
            hint="check the hospital id (see `provista indicators --by hospital`)"
            if hospital
            else "build the warehouse from files that include bed_census",
        )
    chosen = census_series(census, departments=bool(hospital or department or everything), end=end)
    if department is not None:
        chosen = [s for s in chosen if s.department == department]
        if not chosen:
            known = ", ".join(sorted(set(census["department"])))
            raise ForecastError(
                f"no open department '{department}' in the census"
                + (f" of hospital {hospital}" if hospital else ""),
                hint=f"use one of: {known}",
            )
    return chosen


def forecast(
    ctx: typer.Context,
    warehouse: Warehouse = None,
    hospital: Hospital = None,
    department: Department = None,
    horizon: Annotated[int, typer.Option(help=f"Days ahead, 1 to {MAX_HORIZON}.")] = 14,
    model_name: Annotated[
        str, typer.Option("--model", help=f"{', '.join(MODELS)} (default {DEFAULT_MODEL}).")
    ] = DEFAULT_MODEL,
    output_format: Format = "table",
) -> None:
    """Bed-demand forecast (床位需求预测): occupied beds each day ahead, with 80 % and 95 % intervals.

    Without --hospital: every hospital's total. With --hospital: its total and each department. With
    --department: that department (in one hospital or in each). `provista forecast backtest` scores the
    models against the seasonal-naive baseline.
    """
    if ctx.invoked_subcommand is not None:
        return
    from provista.analytics.forecast.forecasts import forecast_table
    from provista.cli import console, out, user_errors

    with user_errors():
        path = _check(warehouse, output_format, horizon)
        if model_name not in MODELS:
            raise ConfigError(f"unknown --model '{model_name}'", hint=f"use one of {', '.join(MODELS)}")
        chosen = _series(path, hospital, department)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = forecast_table(chosen, horizon, model_name)
    for warning in caught:
        console.print(f"[yellow]Warning:[/] {warning.message}", soft_wrap=True, markup=False)
    if output_format == "csv":
        out.print(table.to_csv(index=False), end="", soft_wrap=True, markup=False, highlight=False)
        return
    if output_format == "json":
        records = [{k: json_value(v) for k, v in row.items()} for row in table.to_dict("records")]
        text = json.dumps(
            {"model": model_name, "horizon": horizon, "rows": records}, ensure_ascii=False, indent=2
        )
        out.print(text, soft_wrap=True, markup=False, highlight=False)
        return
    _print(_forecast_view(table, model_name, chosen))


def _forecast_view(table: pd.DataFrame, model_name: str, chosen: list[CensusSeries]) -> Any:
    from rich.table import Table

    last = max(s.occupied.index[-1] for s in chosen).date()
    view = Table(
        title=f"Bed-demand forecast 床位需求预测 after the census of {last}: {MODELS[model_name].title}",
        title_justify="left",
    )
    for name in ("hospital", "department", "date", "days ahead", "forecast", "80% interval", "95% interval",
                 "open beds", "occupancy"):  # fmt: skip
        view.add_column(name, justify="left" if name in ("hospital", "department", "date") else "right")
    for r in table.itertuples(index=False):
        view.add_row(
            r.hospital_id,
            r.department or "(all)",
            str(r.date),
            str(r.horizon),
            f"{r.point:.1f}",
            f"{r.lo80:.0f}–{r.hi80:.0f}",
            f"{r.lo95:.0f}–{r.hi95:.0f}",
            str(r.open_beds),
            "–" if pd.isna(r.occupancy) else f"{r.occupancy:.0f}%",
        )
    return view


def backtest(
    warehouse: Warehouse = None,
    origins: Annotated[int, typer.Option(help="Forecast origins, a week apart.")] = 8,
    horizon: Annotated[int, typer.Option(help=f"Days ahead scored, 1 to {MAX_HORIZON}.")] = MAX_HORIZON,
    hospital: Hospital = None,
    department: Department = None,
    models: Annotated[
        str,
        typer.Option(
            help=f"Models to score, comma-separated ({', '.join(m for m in MODELS if m != BASELINE)}); "
            f"the baseline {BASELINE} is always scored. ets is slow (a numerical fit per series and origin)."
        ),
    ] = DEFAULT_MODEL,
    output_format: Format = "table",
) -> None:
    """Rolling-origin backtest (滚动起点回测): MAE per horizon and interval coverage of each model against the
    seasonal-naive baseline (same weekday last week), for hospital totals and departments; says plainly
    where a model does not beat the baseline."""
    from rich.markup import escape

    from provista.analytics.forecast.backtest import backtest as run_backtest
    from provista.analytics.forecast.backtest import origin_dates, statements, summarise
    from provista.cli import console, out, stage_progress, user_errors

    with user_errors():
        path = _check(warehouse, output_format, horizon)
        names = [m.strip() for m in models.split(",") if m.strip()]
        unknown = [m for m in names if m not in MODELS]
        if unknown or not names:
            raise ConfigError(f"unknown --models '{models}'", hint=f"use some of {', '.join(MODELS)}")
        chosen = _series(path, hospital, department, everything=True)
        started = time.perf_counter()
        with stage_progress() as report, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            errors = run_backtest(
                chosen,
                models=names,
                origins=origins,
                horizon=horizon,
                progress=lambda done, total: report("backtest", done, total),
            )
        seconds = time.perf_counter() - started
        summary = summarise(errors, horizon)
    lines = statements(summary)
    for message, count in Counter(str(w.message) for w in caught).most_common():
        console.print(f"[yellow]Warning:[/] {escape(message)} ({count:,} fits)", soft_wrap=True)
    if output_format == "csv":
        out.print(summary.to_csv(index=False), end="", soft_wrap=True, markup=False, highlight=False)
        return
    if output_format == "json":
        records = [{k: json_value(v) for k, v in row.items()} for row in summary.to_dict("records")]
        text = json.dumps(
            {"origins": origins, "horizon": horizon, "rows": records, "statements": lines},
            ensure_ascii=False,
            indent=2,
        )
        out.print(text, soft_wrap=True, markup=False, highlight=False)
        return
    last = max(s.occupied.index[-1] for s in chosen)
    starts = origin_dates(last, origins, horizon)
    counts = summary.groupby("grain")["series"].max().to_dict()
    title = (
        f"Rolling-origin backtest 滚动起点回测: {origins} origins {starts[0].date()} to {starts[-1].date()} "
        f"(weekly), 1–{horizon} days ahead; "
        + ", ".join(f"{n} {grain} series" for grain, n in counts.items())
    )
    _print(_backtest_view(summary, title))
    for line in lines:
        out.print(("[bold red]" if "NOT" in line else "") + line, soft_wrap=True, highlight=False)
    console.print(f"{len(errors):,} scored forecasts in {seconds:.1f} s.", highlight=False)


def _backtest_view(summary: pd.DataFrame, title: str) -> Any:
    from rich.table import Table

    view = Table(title=title, title_justify="left")
    cover = [f"{lv:.0%} cover" for lv in LEVELS]
    for name in ("grain", "days ahead", "model", "MAE (beds)", "vs baseline", *cover, "series better / worse",
                 "days scored"):  # fmt: skip
        view.add_column(name, justify="left" if name in ("grain", "days ahead", "model") else "right")
    for r in summary.itertuples(index=False):
        base = r.model == BASELINE
        view.add_row(
            r.grain,
            r.bucket,
            r.model + (" (baseline)" if base else ""),
            f"{r.mae:.3f}",
            "–" if base else _change(r.mae, r.baseline_mae),
            *(f"{getattr(r, f'coverage{lv * 100:.0f}'):.1%}" for lv in LEVELS),
            "–" if base else f"{r.series_better:.0%} / {r.series_worse:.0%}",
            f"{r.n:,}",
            style=None if base or r.ratio < 1 else "bold red",
        )
    return view


def _change(mae: float, baseline: float) -> str:
    """The model's MAE against the baseline's, in per cent ('tie' when equal, 'n/a' over a zero baseline)."""
    if mae == baseline:
        return "tie"
    return f"{mae / baseline - 1:+.0%}" if baseline > 0 else "n/a"


def _print(renderable: Any) -> None:
    from provista.cli import table_out

    table_out(400).print(renderable)
