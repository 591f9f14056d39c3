"""The request guard: CSRF protection for cookie sessions, extra security headers, refusals audited.

Cookie sessions are what cross-site request forgery abuses, so every unsafe request (POST, PUT, PATCH,
DELETE) that carries a live session must also carry that session's CSRF token in ``X-CSRF-Token``; the
pages read it from the ``provista_csrf`` cookie, which another site can neither read nor set for us
(SameSite=Strict, and the token is checked against its SHA-256 kept with the session, not against the
cookie). A request whose Origin is another site is refused as well. A request without a live session goes
on to its route, which answers 401.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from provista.api import audit
from provista.api.deps import CSRF_HEADER, SESSION_COOKIE
from provista.api.state import AppState
from provista.errors import ProvistaError

log = logging.getLogger("provista.api")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADERS = {
    "X-Frame-Options": "DENY",  # for browsers older than CSP's frame-ancestors
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def _foreign_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc.lower() != (request.headers.get("host") or "").lower()


def install(app: FastAPI) -> None:
    """Add the guard to ``app`` (before the headers middleware, so its refusals get the CSP too)."""

    @app.exception_handler(ProvistaError)
    async def provista_error(request: Request, exc: Exception) -> Response:
        """A ProvistaError that is also a ValueError or LookupError is the caller's to fix: say what and
        how (422). Any other (the engine's, with its SQL) stays in the server's log: 500, no detail."""
        assert isinstance(exc, ProvistaError)
        if isinstance(exc, ValueError | LookupError):
            detail = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
            return JSONResponse({"detail": detail}, status_code=422)
        reference = secrets.token_hex(4)
        log.error(
            "request %s %s failed (reference %s)", request.method, request.url.path, reference, exc_info=exc
        )
        return JSONResponse(
            {"detail": f"internal error: the administrators find it in the server log as {reference}"},
            status_code=500,
        )

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        refusal = await _refusal(request)
        response = refusal or await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.url.path.startswith("/api/") and request.method not in SAFE_METHODS:
            response.headers.setdefault("Cache-Control", "no-store")
        token = request.cookies.get(SESSION_COOKIE)
        if refusal is None and response.status_code == 403 and token:
            await run_in_threadpool(_record_refusal, request.app.state.app_state, token, request)
        return response


async def _refusal(request: Request) -> Response | None:
    """The 403 for an unsafe request from another site, or with a live session but not its CSRF token."""
    if request.method in SAFE_METHODS or not request.url.path.startswith("/api/"):
        return None
    if _foreign_origin(request):
        return JSONResponse({"detail": "a request from another site is refused"}, status_code=403)
    state: AppState = request.app.state.app_state
    token = request.cookies.get(SESSION_COOKIE)
    if (
        token
        and await run_in_threadpool(state.csrf_matches, token, request.headers.get(CSRF_HEADER)) is False
    ):
        await run_in_threadpool(_record_refusal, state, token, request, "csrf.refused")
        return JSONResponse(
            {"detail": f"missing or wrong {CSRF_HEADER} header: reload the page and try again"},
            status_code=403,
        )
    return None


def _record_refusal(state: AppState, token: str, request: Request, action: str = "access.denied") -> None:
    """A logged-in user refused (wrong role, a region or hospital outside their scope): worth a record."""
    user = state.principal(token)
    if user is not None:
        detail = {"method": request.method, "query": dict(request.query_params)}
        audit.record(state, user, action, request.url.path, detail, request, outcome="denied")
