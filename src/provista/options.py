"""What every command does with its options and its JSON output: dates and choices checked with a message
that says what to write, and table cells turned into plain JSON values."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd

from provista.errors import ConfigError


def parse_date(text: str | None, option: str) -> date:
    """A YYYY-MM-DD option, or a ConfigError naming the option."""
    if text is None:
        raise ConfigError(f"{option} is missing", hint=f"give {option} YYYY-MM-DD")
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"{option} '{text}' is not a date", hint="write dates as YYYY-MM-DD") from None


def choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    """The value if it is one of ``allowed``, else a ConfigError listing them."""
    if value not in allowed:
        raise ConfigError(
            f"{option} '{value}' is not one of {', '.join(allowed)}", hint=f"use {option} {allowed[0]}"
        )
    return value


def json_value(value: Any) -> Any:
    """A table cell as JSON: NaN, NA and NaT become null, dates ISO text, NumPy scalars Python ones."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
