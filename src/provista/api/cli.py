"""`provista users …` (accounts, for the first admin and for scripts) and `provista audit …` (verify, anchor,
export). Every change made here is audited as ``cli:<operating-system user>``."""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

users = typer.Typer(name="users", help="Accounts: add, list, change, set a password.", no_args_is_help=True)
audit_cli = typer.Typer(
    name="audit",
    help="The audit log: verify its hash chain, anchor its head, export it.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the account and audit commands to ``app``."""
    app.add_typer(users)
    app.add_typer(audit_cli)


def _state() -> Any:
    from provista.api.state import AppState
    from provista.config import get_settings

    return AppState(get_settings().app_db_url)


def _who() -> str:
    return f"cli:{getpass.getuser()}"


def record_from_cli(action: str, target: str, detail: dict[str, Any] | None = None) -> None:
    """Audit a change made from the command line (e.g. an EMPI join) in the app state's audit log."""
    from provista.api import audit

    audit.record(_state(), _who(), action, target, detail)


def _check_scope(kind: str, code: str) -> None:
    """Against the warehouse, when there is one (accounts can be made before the first build)."""
    from provista.api.routes.admin import scope_exists
    from provista.config import get_settings
    from provista.engine import DuckDBEngine
    from provista.errors import ProvistaError

    path = get_settings().warehouse_path
    if not path.exists():
        return
    with DuckDBEngine(path, read_only=True) as engine:
        if not scope_exists(engine, kind, code):
            raise ProvistaError(f"no {kind} {code} in the warehouse {path}", hint="check the code")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password (12+ characters): ")
    if getpass.getpass("Again: ") != first:
        from provista.errors import ProvistaError

        raise ProvistaError("the two passwords differ", hint="type the same password twice")
    return first


Name = Annotated[str, typer.Argument(help="The user name.")]
Stdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input.")]


@users.command("add")
def add(
    username: Name,
    role: Annotated[
        str, typer.Option(help="admin, analyst, hospital, public, clinician, researcher, auditor")
    ],
    scope_kind: Annotated[str, typer.Option(help="province, city, county or hospital")] = "province",
    scope_code: Annotated[str, typer.Option(help="e.g. 330000, 330100, 330106 or a hospital id")] = "330000",
    password_stdin: Stdin = False,
) -> None:
    """Create an account (the first admin is made this way); the password is asked for, never an argument."""
    from provista.api import audit
    from provista.api.state import check_account
    from provista.cli import out, user_errors

    with user_errors():
        check_account(username, role, scope_kind, scope_code)
        _check_scope(scope_kind, scope_code)
        state = _state()
        account = state.create_user(username, _password(password_stdin), role, scope_kind, scope_code)
        audit.record(
            state, _who(), "user.create", username, {"role": role, "scope": f"{scope_kind} {scope_code}"}
        )
    out.print(f"Created {account.username}: {account.role}, {account.scope_kind} {account.scope_code}.")


@users.command("list")
def list_users() -> None:
    """Every account, its role, scope, state and live sessions."""
    from rich.table import Table

    from provista.cli import out

    table = Table("user", "role", "scope", "state", "sessions", "password set")
    for a in _state().accounts():
        changed = a.password_changed_at.strftime("%Y-%m-%d") if a.password_changed_at else ""
        state = "disabled" if a.disabled else "enabled"
        table.add_row(a.username, a.role, f"{a.scope_kind} {a.scope_code}", state, str(a.sessions), changed)
    out.print(table)


@users.command("change")
def change(
    username: Name,
    role: Annotated[str | None, typer.Option(help="A new role.")] = None,
    scope_kind: Annotated[str | None, typer.Option(help="A new scope kind.")] = None,
    scope_code: Annotated[str | None, typer.Option(help="A new scope code.")] = None,
    disable: Annotated[
        bool | None, typer.Option("--disable/--enable", help="Disable (ends sessions) or enable.")
    ] = None,
) -> None:
    """Change an account's role, scope or state."""
    from provista.api import audit
    from provista.cli import out, user_errors

    with user_errors():
        state = _state()
        if scope_kind or scope_code:
            before = state.account(username)
            if before is not None:
                _check_scope(scope_kind or before.scope_kind, scope_code or before.scope_code)
        account = state.update_user(
            username, role=role, scope_kind=scope_kind, scope_code=scope_code, disabled=disable
        )
        changes = {"role": role, "scope_kind": scope_kind, "scope_code": scope_code, "disabled": disable}
        audit.record(
            state, _who(), "user.change", username, {k: v for k, v in changes.items() if v is not None}
        )
    out.print(
        f"{account.username}: {account.role}, {account.scope_kind} {account.scope_code}, "
        f"{'disabled' if account.disabled else 'enabled'}."
    )


@users.command("password")
def password(username: Name, password_stdin: Stdin = False) -> None:
    """Set a new password; the account's sessions end."""
    from provista.api import audit
    from provista.cli import out, user_errors

    with user_errors():
        state = _state()
        state.set_password(username, _password(password_stdin))
        audit.record(state, _who(), "user.password_reset", username)
    out.print(f"New password set for {username}; their sessions have ended.")


@audit_cli.command("verify")
def verify(
    anchors: Annotated[
        Path | None, typer.Option(help="A file `provista audit anchor` wrote: each anchor must still hold.")
    ] = None,
) -> None:
    """Recompute the hash chain; exit 1 naming every row that was changed, removed or reordered."""
    from provista.api import audit
    from provista.cli import console, out, user_errors

    with user_errors():
        found = audit.verify(_state().engine, anchors)
    if not found.intact:
        for problem in found.problems:
            console.print(f"[bold red]✗[/] {problem}", soft_wrap=True)
        raise typer.Exit(1)
    out.print(
        f"The audit log is intact: {found.rows:,} rows; head row {found.head_seq}, hash {found.head_hash}"
    )


@audit_cli.command("anchor")
def anchor(
    file: Annotated[Path, typer.Argument(help="Anchors file (appended to); keep it away from the database.")],
) -> None:
    """Write the chain's head (row and hash) to a file, so a cut at the end of the log is noticed later."""
    from provista.api import audit
    from provista.cli import out, user_errors

    with user_errors():
        seq, digest = audit.anchor(_state().engine, file)
    out.print(f"Anchored row {seq} ({digest}) in {file}")


@audit_cli.command("export")
def export(
    output: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    user: Annotated[str | None, typer.Option(help="Only this user.")] = None,
    action: Annotated[str | None, typer.Option(help="Only actions starting with this.")] = None,
    since: Annotated[dt.datetime | None, typer.Option(help="From this moment (UTC).")] = None,
    until: Annotated[dt.datetime | None, typer.Option(help="Before this moment (UTC).")] = None,
) -> None:
    """Write the matching events as CSV for an inspector (the export is itself audited)."""
    from provista.api import audit
    from provista.cli import out, user_errors

    with user_errors():
        state = _state()
        _, found = audit.search(state, username=user, action=action, since=since, until=until, limit=None)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("\ufeff" + audit.to_csv(found), encoding="utf-8")
        filters = {"user": user, "action": action, "since": since, "until": until, "rows": len(found)}
        audit.record(state, _who(), "audit.export", str(output), filters)
    out.print(f"{len(found):,} events written to {output}")
