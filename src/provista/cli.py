"""The `provista` command: one sub-command per step of the platform, plus `demo`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from provista import __version__
from provista.config import get_settings
from provista.errors import ProvistaError

app = typer.Typer(
    name="provista",
    help="Provista 省医疗大数据可视化分析与应用平台 — a provincial health-data platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(stderr=True)
out = Console()


def table_out(width: int) -> Console:
    """Where a command prints a table: the terminal, or (piped to a file or captured) a console ``width``
    columns wide, so that rows are not wrapped to 80 columns."""
    return out if out.is_terminal else Console(width=width, highlight=False)


@contextmanager
def user_errors() -> Iterator[None]:
    """Print a ProvistaError as a message with what to do, not a stack trace; exit with status 2."""
    try:
        yield
    except ProvistaError as exc:
        console.print(f"[bold red]Error:[/] {exc.message}", soft_wrap=True)
        if exc.hint:
            console.print(f"[yellow]What to do:[/] {exc.hint}", soft_wrap=True)
        raise typer.Exit(2) from None


@contextmanager
def stage_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar per stage, fed by ``report(stage, done, total)``."""
    with Progress(
        TextColumn("[bold]{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal and os.environ.get("PROVISTA_PROGRESS") != "1",
    ) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield report


def version_callback(value: bool) -> None:
    if value:
        out.print(f"provista {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Provista: ingest, clean, link, store, analyse and show a province's health data."""


def _summary(manifest: dict[str, Any], out_dir: Path) -> None:
    c = manifest["counts"]
    table = Table(
        title=f"Synthetic province: {manifest['province']['name_en']} "
        f"({manifest['province']['name_zh']}), scale {manifest['scale']['name']}, "
        f"seed {manifest['seed']}"
    )
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("persons (residents sampled from the 2020 census)", c["persons"]),
        ("hospitals", c["hospitals"]["total"]),
        ("encounters", c["encounters"]["total"]),
        ("  of which inpatient stays", c["encounters"]["inpatient"]),
        ("diagnoses", c["diagnoses"]),
        ("operations", c["operations"]),
        ("labs", c["labs"]),
        ("prescriptions", c["prescriptions"]),
        ("bed-census rows", c["bed_census"]),
        ("equipment-use rows", c["equipment_use"]),
        ("case reports (传染病报告卡)", c["case_reports"]),
        ("injected outbreaks", c["outbreaks"]),
        ("injected errors", c["errors"]["total"]),
        ("files written", len(manifest["files"])),
    ]
    for what, count in rows:
        table.add_row(what, f"{count:,}")
    out.print(table)
    out.print(f"Sources in [bold]{out_dir}[/]; ground truth in [bold]{out_dir / 'truth'}[/].")


@app.command()
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the sources and truth into.")],
    province: Annotated[
        str,
        typer.Option(
            help="A shipped province (zhejiang) or a folder with "
            "province.json, divisions.csv and population.csv."
        ),
    ] = "zhejiang",
    scale: Annotated[
        str, typer.Option(help="tiny (~2k persons), small (~100k), medium (~1M), large (~5M).")
    ] = "tiny",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical output.")] = 1,
    error_rate: Annotated[float, typer.Option(help="Share of records given an injected error.")] = 0.02,
    jobs: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    force: Annotated[bool, typer.Option(help="Replace an earlier synth output in --out.")] = False,
) -> None:
    """Generate a synthetic province: hospital and CDC exports in vendor formats, plus ground truth."""
    from provista.synth.generator import SynthOptions, synthesize

    with user_errors(), stage_progress() as report:
        manifest = synthesize(
            SynthOptions(
                out=out_dir,
                province=province,
                scale=scale,
                seed=seed,
                error_rate=error_rate,
                jobs=jobs,
                force=force,
            ),
            report,
        )
    _summary(manifest, out_dir)


@app.command()
def demo(
    scale: Annotated[str | None, typer.Option(help="Scale of the demo province (default: small).")] = None,
    regenerate: Annotated[
        bool, typer.Option(help="Generate the province and build the warehouse again.")
    ] = False,
    serve: Annotated[bool, typer.Option(help="End by serving the dashboard (Ctrl-C stops it).")] = True,
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8000,
) -> None:
    """Generate the default province (if not there yet), run the pipeline that exists, and report."""
    from provista.synth.generator import SynthOptions, synthesize

    settings = get_settings()
    scale = scale or settings.demo_scale
    sources = settings.demo_sources
    manifest_path = sources / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else None
    with user_errors():
        if (
            regenerate
            or manifest is None
            or manifest["scale"]["name"] != scale
            or manifest["seed"] != settings.demo_seed
        ):
            out.print(f"Generating the {scale} synthetic province into [bold]{sources}[/] ...")
            with stage_progress() as report:
                manifest = synthesize(
                    SynthOptions(
                        out=sources, scale=scale, seed=settings.demo_seed, jobs=settings.jobs, force=True
                    ),
                    report,
                )
        else:
            out.print(
                f"Using the province already generated in [bold]{sources}[/] (--regenerate to redo it)."
            )
    assert manifest is not None
    _summary(manifest, sources)
    from provista.ingest.pipeline import build as run_build

    target = settings.warehouse_path
    fresh = target.exists() and target.stat().st_mtime > manifest_path.stat().st_mtime
    if fresh and not regenerate:
        out.print(f"Using the warehouse already built in [bold]{target}[/] (--regenerate to rebuild it).")
    else:
        with user_errors(), stage_progress() as report:
            out.print(f"Building the warehouse [bold]{target}[/] from the province's files ...")
            summary = run_build(sources, target, _key(create=True), progress=report, jobs=settings.jobs)
        _load_summary(summary, f"Warehouse {target}")
    _score_table(sources, target)
    _link_score(sources, target)
    if not serve:
        return
    from provista.api.serve import seed_demo_users
    from provista.api.state import AppState

    logins = seed_demo_users(AppState(settings.app_db_url), target)
    table = Table(title="Demo logins (demo mode only) / 演示账号（仅限演示）")
    for col in ("user", "password", "role", "scope"):
        table.add_column(col)
    for row in logins:
        table.add_row(*row)
    out.print(table)
    _serve(target, "127.0.0.1", port)


def _load_summary(summary: Any, title: str) -> None:
    table = Table(title=title)
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, count in [
        ("files loaded", summary.files),
        ("files already loaded (skipped)", len(summary.skipped)),
        ("records in", summary.rows_in),
        ("loaded", summary.loaded),
        ("merged as duplicates", summary.duplicates),
        ("quarantined", summary.quarantined),
    ]:
        table.add_row(what, f"{count:,}")
    for reason, count in summary.reasons.most_common():
        table.add_row(f"  quarantined: {reason}", f"{count:,}")
    link = summary.linkage
    if link is not None and link.records:
        table.add_row("person records linked (EMPI)", f"{link.records:,}")
        table.add_row("  persons", f"{link.persons:,}")
        table.add_row("  links made by the model", f"{link.links:,}")
    out.print(table)
    if link is not None and link.note:
        console.print(f"[yellow]Linkage:[/] {link.note}", soft_wrap=True)
    for failure in summary.failed:
        console.print(f"[bold red]File refused:[/] {failure}", soft_wrap=True)


def _link_score(sources: Path, warehouse: Path) -> None:
    from provista.engine import DuckDBEngine
    from provista.linkage.evaluate import score_person_index

    with DuckDBEngine(warehouse, read_only=True) as engine:
        s = score_person_index(engine, sources)
    out.print(
        f"Person index (EMPI) against truth/identities.csv: {s['records']:,} records, "
        f"precision {s['precision']:.4%}, recall {s['recall']:.4%}, F1 {s['f1']:.4%}"
    )


def _score_table(sources: Path, warehouse: Path) -> None:
    from provista.engine import DuckDBEngine
    from provista.quality.score import score

    engine = DuckDBEngine(warehouse, read_only=True)
    try:
        rows, overall = score(sources / "truth", engine)
    finally:
        engine.close()
    table = Table(title="Cleaning scored against truth/errors.csv")
    for col in ("error kind", "expected action", "injected", "handled", "measure", "rate"):
        table.add_column(col, justify="right" if col in ("injected", "handled", "rate") else "left")
    for r in rows.to_dict("records"):
        table.add_row(
            r["error_kind"],
            r["expected_action"],
            f"{r['injected']:,}",
            f"{r['handled']:,}",
            r["measure"],
            f"{r['rate']:.2%}",
        )
    out.print(table)
    out.print(
        f"Quarantined {overall['quarantined']:,} records; precision {overall['precision']:.2%}; "
        f"clean records quarantined: {overall['clean_records_quarantined']:,}"
    )


def _key(create: bool) -> bytes:
    from provista.privacy.pseudonym import create_key, load_key

    path = get_settings().key_file
    if create and not path.exists():
        console.print(
            f"Created a pseudonymisation key at [bold]{path}[/] (keep it outside the warehouse; back it up)."
        )
        return create_key(path)
    return load_key(path)


@app.command()
def keygen(
    rotate: Annotated[
        bool, typer.Option(help="Retire the current key (kept under retired/) and write a new one.")
    ] = False,
) -> None:
    """Create the secret key for pseudonyms (HMAC-SHA256); refuses to replace an existing one."""
    from provista.privacy.pseudonym import create_key

    path = get_settings().key_file
    if rotate:
        from provista.privacy.keys import rotate_key

        with user_errors():
            retired = rotate_key(path)
        out.print(
            f"New key written to {path}; the old one is kept at {retired} (mode 600). Next: rebuild the "
            "warehouse with `provista build` (every pseudonym changes), map old person keys to new ones "
            "with `provista rekey` if any are held elsewhere, then destroy the old key."
        )
        return
    with user_errors():
        create_key(path)
    out.print(f"Key written to {path} (mode 600). Back it up: without it, pseudonyms cannot be reproduced.")


EngineOption = Annotated[
    str,
    typer.Option(
        envvar="PROVISTA_ENGINE",
        help="duckdb (the warehouse is a file) or spark (a directory of Parquet tables; "
        "PROVISTA_SPARK_MASTER or PROVISTA_SPARK_REMOTE for a cluster, local[2] by default).",
    ),
]


def _warehouse_for(warehouse: Path | None, engine: str) -> Path:
    """The warehouse given, or the default one of the engine (provista.duckdb, or provista.spark/)."""
    default = get_settings().warehouse_path
    return warehouse or (default.with_suffix(".spark") if engine == "spark" else default)


@app.command()
def build(
    sources: Annotated[Path, typer.Option(help="Folder with the hospitals' and the CDC's files.")],
    warehouse: Annotated[
        Path | None, typer.Option(help="Warehouse file (default: data/warehouse/provista.duckdb).")
    ] = None,
    jobs: Annotated[int | None, typer.Option(help="Worker processes (default: PROVISTA_JOBS or 2).")] = None,
    engine: EngineOption = "duckdb",
) -> None:
    """Ingest → normalise → validate → quarantine → de-duplicate → pseudonymise → load, as a new warehouse."""
    from provista.ingest.pipeline import build as run_build

    settings = get_settings()
    target = _warehouse_for(warehouse, engine)
    with user_errors(), stage_progress() as report:
        summary = run_build(
            sources,
            target,
            _key(create=False),
            mappings_dir=str(settings.mappings_dir) if settings.mappings_dir else None,
            progress=report,
            jobs=jobs or settings.jobs,
            engine=engine,
        )
    _load_summary(summary, f"Warehouse {target}")
    if (sources / "truth/errors.csv").exists():
        _score_table(sources, target)
    if summary.failed:
        console.print(f"{len(summary.failed)} file(s) refused; the rest is in the warehouse.")
        raise typer.Exit(1)


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files to add.")],
    warehouse: Annotated[Path | None, typer.Option(help="Warehouse file to add to.")] = None,
    root: Annotated[
        Path | None, typer.Option(help="Folder the files' names are relative to (hospitals/<id>/...).")
    ] = None,
    engine: EngineOption = "duckdb",
) -> None:
    """Add files to an existing warehouse; a file already loaded (same content) changes nothing."""
    from provista.ingest.pipeline import ingest as run_ingest

    settings = get_settings()
    target = _warehouse_for(warehouse, engine)
    with user_errors(), stage_progress() as report:
        summary = run_ingest(
            files,
            target,
            _key(create=False),
            root=root,
            mappings_dir=str(settings.mappings_dir) if settings.mappings_dir else None,
            progress=report,
            engine=engine,
        )
    for skipped in summary.skipped:
        out.print(f"Already loaded, nothing changed: {skipped}")
    if summary.skipped and not (summary.files or summary.failed):
        out.print(f"Nothing new: {target} is unchanged (no new version written).")
        return
    _load_summary(summary, f"Added to {target}")


@app.command()
def score(
    sources: Annotated[Path, typer.Option(help="A synthetic province (with truth/).")],
    warehouse: Annotated[Path | None, typer.Option(help="Warehouse built from it.")] = None,
) -> None:
    """Score cleaning against the synthetic province's ground truth."""
    with user_errors():
        _score_table(sources, warehouse or get_settings().warehouse_path)


@app.command()
def quality(
    warehouse: Annotated[Path | None, typer.Option(help="Warehouse to report on.")] = None,
    html_file: Annotated[Path, typer.Option("--html", help="Where to write the HTML report.")] = Path(
        "quality-report.html"
    ),
    top: Annotated[int, typer.Option(help="Hospitals and rules to print.")] = 10,
) -> None:
    """Data-quality report: pass rates per hospital and kind of rule, the worst rules, the trend of loads."""
    from provista.engine import DuckDBEngine
    from provista.quality.report import quality_report, write_html

    with user_errors():
        engine = DuckDBEngine(warehouse or get_settings().warehouse_path, read_only=True)
        try:
            report = quality_report(engine)
        finally:
            engine.close()
    table = Table(title="Hospitals with the lowest pass rates / 通过率最低的医院")
    for col in ("hospital", "name", "records", "conformance", "completeness", "plausibility"):
        table.add_column(col)
    for r in report.by_hospital.head(top).to_dict("records"):
        table.add_row(
            str(r["hospital_id"]),
            str(r["name_zh"]),
            f"{r['records']:,}",
            *(f"{r[k]:.2%}" if r[k] == r[k] else "" for k in ("conformance", "completeness", "plausibility")),
        )
    out.print(table)
    rules = Table(title="Worst rules / 问题最多的规则")
    for col in ("rule", "kind", "failed", "checked", "rate", "status", "description"):
        rules.add_column(col)
    for r in report.worst_rules.head(top).to_dict("records"):
        rules.add_row(
            r["rule_id"],
            r["kind"],
            f"{r['failed']:,}",
            f"{r['checked']:,}",
            f"{r['rate']:.3%}",
            r["status"],
            f"{r['zh']} / {r['en']}",
        )
    out.print(rules)
    write_html(report, html_file)
    out.print(f"HTML report written to [bold]{html_file}[/]")


def _register_domain_commands() -> None:
    """Commands that live beside their domain (each module exposes ``register(app)``)."""
    from provista.analytics.epi.cli import register as register_epi
    from provista.analytics.forecast.cli import register as register_forecast
    from provista.analytics.operations.cli import register as register_operations
    from provista.analytics.surveillance.cli import register as register_surveillance
    from provista.analytics.surveillance.scan_cli import register as register_scan
    from provista.api.cli import register as register_accounts
    from provista.linkage.cli import register as register_linkage
    from provista.privacy.cli import register as register_privacy

    register_linkage(app)
    register_accounts(app)
    register_epi(app)
    register_operations(app)
    register_forecast(app)
    register_surveillance(app)
    register_scan(app)
    register_privacy(app)


_register_domain_commands()


@app.command()
def serve(
    warehouse: Annotated[
        Path | None, typer.Option(help="Warehouse to serve (default: PROVISTA_WAREHOUSE).")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    engine: EngineOption = "duckdb",
) -> None:
    """Serve the API (/api, docs at /docs) and the dashboard. Accounts come from the app-state database.

    A Spark-built warehouse (--engine spark) is served from its Parquet tables through the embedded
    engine: requests need answers in milliseconds, which a Spark job cannot give.
    """
    from provista.engine import is_spark_warehouse

    target = _warehouse_for(warehouse, engine)
    with user_errors():
        if engine == "spark" and target.exists() and not is_spark_warehouse(target):
            raise ProvistaError(
                f"{target} is not a Spark warehouse", hint="serve it with --engine duckdb, or build one"
            )
        if engine == "duckdb" and target.is_dir():
            raise ProvistaError(f"{target} is a directory (a Spark warehouse?)", hint="add --engine spark")
    _serve(target, host, port)


def _serve(warehouse: Path | None, host: str, port: int) -> None:
    import uvicorn

    from provista.api.app import create_app

    settings = get_settings()
    target = warehouse or settings.warehouse_path
    with user_errors():
        if not target.exists():
            raise ProvistaError(f"no warehouse at {target}", hint="build one with `provista build` first")
        application = create_app(
            target, settings.app_db_url, settings.session_hours, settings.api_cache_seconds
        )
    out.print(f"Provista is at [bold]http://{host}:{port}/[/]  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(application, host=host, port=port, log_level="warning")
