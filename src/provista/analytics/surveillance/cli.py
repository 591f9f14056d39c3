"""`provista detect`: registered on the main command by ``register``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the surveillance commands to ``app``."""
