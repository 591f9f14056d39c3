"""The FastAPI application: the JSON API under /api, its docs at /docs (local assets), and the pages."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from provista import __version__
from provista.api import cache, guard
from provista.api.routes import (
    admin,
    alerts,
    audit_log,
    auth,
    forecast,
    map,
    operations,
    overview,
    quality,
    surveillance,
    trends,
)
from provista.api.state import AppState
from provista.engine import DuckDBEngine

STATIC = Path(str(resources.files("provista.web").joinpath("static")))
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def create_app(
    warehouse: Path, app_db_url: str, session_hours: float = 8.0, cache_seconds: float = 600.0
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.engine.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Provista API",
        version=__version__,
        description="省医疗大数据可视化分析与应用平台 — JSON API. Log in at /api/auth/login first.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine = DuckDBEngine(warehouse, read_only=True)
    app.state.app_state = AppState(app_db_url)
    app.state.session_hours = session_hours
    for module in (
        auth,
        overview,
        map,
        trends,
        quality,
        operations,
        alerts,
        admin,
        audit_log,
        surveillance,
        forecast,
    ):
        app.include_router(module.router)

    cache.install(app, cache_seconds)  # innermost: a hit still passes the guard and gets its ETag
    guard.install(app)  # inside the headers middleware below, so that its refusals get the CSP too

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.url.path.startswith("/api/") and request.method == "GET" and response.status_code == 200:
            body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            headers = dict(response.headers)
            headers.pop("content-length", None)
            if request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "private, no-cache"})
            headers.update({"ETag": etag, "Cache-Control": "private, no-cache"})
            return Response(body, status_code=200, headers=headers, media_type=response.media_type)
        return response

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html")  # Swagger UI from local assets, no inline script

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app
