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
    """Add the surveillance commands to ``app``."""
    app.command(name="detect")(detect)


def detect(
    method: Annotated[str, typer.Option(help=f"Detector: {METHODS}.")],
    input_file: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help="CSV with t, date (may be empty), observed and optionally population."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="CSV to write, one row per evaluated period.")
    ],
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
    """Outbreak detection (暴发探测) on a count series: EARS, Farrington, CUSUM, GLR, CIDARS percentile."""
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
