"""`provista detect`: registered on the main command by ``register``."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from provista.errors import ProvistaError

METHODS = "ears-c1, ears-c2, ears-c3, farrington, farrington-flexible, cusum, glr-pois, glr-nb, mpm"


class DetectionOutputError(ProvistaError, OSError):
    """The detection table could not be written."""


def register(app: typer.Typer) -> None:
    """Add the surveillance commands to ``app``: ``detect`` on a CSV, and ``detect score`` on a warehouse."""
    group = typer.Typer(add_completion=False)
    group.callback(invoke_without_command=True)(detect)
    group.command(name="score")(score)
    app.add_typer(group, name="detect")


def detect(
    ctx: typer.Context,
    method: Annotated[str | None, typer.Option(help=f"Detector: {METHODS}.")] = None,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input", "-i", help="CSV with t, date (may be empty), observed and optionally population."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="CSV to write, one row per evaluated period.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="name=value, named as in R surveillance (b=3, range=264:528, thresholdMethod=nbPlugin, "
            "c.ARL=5, …); repeat for several.",
        ),
    ] = None,
    freq: Annotated[
        int | None,
        typer.Option(
            help="Periods per year: 52 weekly, 365 daily, 12 monthly (default: from the dates, else 52)."
        ),
    ] = None,
) -> None:
    """Outbreak detection (暴发探测) on a count series: EARS, Farrington, CUSUM, GLR, CIDARS percentile.

    `provista detect score` scores the build's detection against a synthetic province's known outbreaks.
    """
    if ctx.invoked_subcommand is not None:
        return
    for option, value in (("--method", method), ("--input", input_file), ("--output", output)):
        if value is None:
            raise typer.BadParameter("required (or use a sub-command: score)", ctx, param_hint=f"'{option}'")
    assert method is not None and input_file is not None and output is not None
    from rich.table import Table

    from provista.analytics.surveillance.detectors import detector_from_strings, read_count_csv
    from provista.cli import console, out, user_errors

    with user_errors():
        chosen = detector_from_strings(method, param or [])
        series = read_count_csv(input_file, freq)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            detection = chosen.detect(series)
        _write_csv(detection.table, output)
    for warning in caught:
        console.print(f"[yellow]Warning:[/] {warning.message}", soft_wrap=True)
    first, last = detection.control["range"]
    table = Table(title=f"{chosen.title}: {input_file.name}")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("periods evaluated / 评估期数", f"{len(detection.table):,} (t = {first}..{last})")
    table.add_row("alarms / 预警信号", f"{detection.alarms:,}")
    for name in ("alpha", "m", "window"):
        if name in chosen.resolved_:
            table.add_row(f"{name} (resolved)", f"{chosen.resolved_[name]:.6g}")
    out.print(table)
    out.print(f"Written to [bold]{output}[/]")


def _r_text(value: Any) -> str:
    """A cell as R's ``write.csv`` would write it: TRUE/FALSE, NA, Inf, shortest exact number."""
    if value is None or value is pd.NA:
        return "NA"
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return "NA"
        if math.isinf(value):
            return "Inf" if value > 0 else "-Inf"
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    text = table.astype(object).map(_r_text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        text.to_csv(path, index=False)
    except OSError as exc:
        raise DetectionOutputError(
            f"{path}: cannot write the output ({exc.strerror})", hint="choose a writable --output path"
        ) from None


def score(
    warehouse: Annotated[Path, typer.Option(help="A built warehouse (DuckDB file) to run detection on.")],
    truth: Annotated[
        Path, typer.Option(help="The truth/ folder `provista synth` wrote (its outbreaks.csv is used).")
    ],
    config: Annotated[
        Path | None,
        typer.Option(help="Detection YAML (default: PROVISTA_DETECTION_CONFIG, else the shipped one)."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="table (default), csv or json, to standard output.")
    ] = "table",
) -> None:
    """Alarm burden, sensitivity, false alarms and days to detection of each configured detector."""
    from rich.table import Table

    from provista.analytics.surveillance.detection_config import load_config
    from provista.analytics.surveillance.detection_score import read_outbreaks, score_table
    from provista.analytics.surveillance.detection_score import score as score_runs
    from provista.analytics.surveillance.outbreak_alerts import detection_config, run_detection
    from provista.cli import out, stage_progress, table_out, user_errors
    from provista.engine import DuckDBEngine

    with user_errors():
        if output_format not in ("table", "csv", "json"):
            raise DetectionOutputError(
                f"unknown --format {output_format!r}", hint="use --format table, csv or json"
            )
        if not warehouse.is_file():
            raise ProvistaError(
                f"{warehouse}: no such warehouse file",
                hint="give --warehouse the DuckDB file `provista build` wrote",
            )
        outbreaks = read_outbreaks(truth)
        chosen = load_config(config) if config else detection_config()
        with DuckDBEngine(warehouse, read_only=True) as engine, stage_progress() as report:
            runs = run_detection(engine, chosen, report)
            counties = int(engine.scalar("SELECT count(*) FROM region WHERE level = 'county'") or 0)
        counties = counties or len({c for r in runs for c in r.panel.counties})
        table = score_table(score_runs(runs, outbreaks, max(counties, 1)))
    if output_format == "csv":
        out.print(table.to_csv(index=False), end="", soft_wrap=True, markup=False, highlight=False)
        return
    if output_format == "json":
        text = table.to_json(orient="records", indent=2, double_precision=15)
        out.print(text, soft_wrap=True, markup=False, highlight=False)
        return
    view = Table(title=f"Outbreak detection against {truth} ({counties} counties)")
    for name in ("method", "series", "judged from", "signals", "per county-week", "outbreaks", "detected",
                 "sensitivity", "false alarms", "PPV", "median days"):  # fmt: skip
        left = name in ("method", "series", "judged from")
        view.add_column(name, justify="left" if left else "right", no_wrap=True)
    for r in table.itertuples():
        view.add_row(
            r.method,
            r.frequency,
            r.judged_from,
            f"{r.signals:,}",
            f"{r.signals_per_county_week:.3f}",
            str(r.outbreaks),
            str(r.detected),
            _share(r.sensitivity),
            f"{r.false_alarms:,}",
            _share(r.ppv),
            "–" if pd.isna(r.median_days_to_detection) else f"{r.median_days_to_detection:g}",
        )
    # A terminal wraps the table to its width; a pipe or file gets it on one line per row.
    target = table_out(160)
    target.print(view)
    target.print(f"Judged to {table['judged_to'].max()}; burden is over the weeks each method judges.")


def _share(value: float | None) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.1%}"
