"""One exception tree for the platform.

Every error a user can cause says what was wrong, where (file, row, field) and what to do; the CLI prints
it without a stack trace. Statistical doubt is a warning, not an exception.
"""

from __future__ import annotations


class ProvistaError(Exception):
    """Base of every error Provista raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class ConfigError(ProvistaError, ValueError):
    """A setting or command-line option is invalid."""


class ProvinceDataError(ProvistaError, ValueError):
    """A province folder (divisions, population) is missing or malformed."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        row: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = file + (f", row {row}" if row is not None else "") + (f", field '{field}'" if field else "")
        super().__init__(f"{where}: {message}", hint=hint)
        self.file, self.row, self.field = file, row, field


class OutputExistsError(ProvistaError, FileExistsError):
    """An output folder already holds something that would be overwritten."""


class StatisticalWarning(UserWarning):
    """A result is computed but doubtful (small counts, no convergence, ...)."""
