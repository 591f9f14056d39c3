"""`provista link` (files) and `provista empi …` (the warehouse's person index)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the linkage commands to ``app``."""
    app.command(name="link")(link)


def link(
    inputs: Annotated[
        list[Path],
        typer.Option("--input", "-i", help="CSV of person records; two inputs link across files."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV to write: rec_id, cluster_id.")],
    schema: Annotated[str, typer.Option(help="Layout of the inputs: febrl or person.")] = "person",
) -> None:
    """Link person records: one input de-duplicates, two link across files (FEBRL or person layout)."""
    from provista.cli import out, user_errors
    from provista.linkage.files import link_files

    with user_errors():
        with out.status("Training the model and scoring candidate pairs…"):
            outcome = link_files(inputs, schema)
        output.parent.mkdir(parents=True, exist_ok=True)
        outcome.clusters.to_csv(output, index=False)
    n = len(outcome.clusters)
    k = outcome.clusters["cluster_id"].nunique()
    out.print(
        f"{n:,} records → {k:,} clusters ({n - k:,} records joined an earlier one); "
        f"{outcome.pairs_scored:,} candidate pairs scored, {outcome.links:,} links. "
        f"Written to [bold]{output}[/]"
    )
