"""Dashboard answers kept in memory, so that the hundredth user opening the province's overview does not
make DuckDB compute it a hundredth time.

A GET under one of the dashboard prefixes depends on the warehouse (read-only for as long as it is
served), on the request (path and query) and on who asks only through their role and scope, which the
route applies in its SQL. So an answer computed for one user serves every user with the same role and
scope: the key is (warehouse, role, scope, path, query). What is not shared: anything without a live
session (the route answers 401 as usual; the session is checked on every request, hit or not), answers
other than 200, and every route outside the prefixes (alerts, accounts, audit, log-in).

An entry lives ``seconds`` (``PROVISTA_API_CACHE_SECONDS``, default 600; 0 turns the cache off). The one
piece of app state a cached answer shows — the overview's count of active alerts — changes through
``/api/alerts``: any successful change there empties the cache. ``Cache-Control: no-cache`` on a request
makes the server compute the answer afresh (and keep the new one); answers carry ``X-Provista-Cache: hit``
or ``miss``.

``memo`` keeps, the same way, a value a route needs that costs seconds (e.g. the public role's
suppression pattern) per warehouse connection.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from provista.api.deps import SESSION_COOKIE
from provista.engine import DuckDBEngine

PREFIXES = (
    "/api/overview/",
    "/api/map/",
    "/api/trends/",
    "/api/quality/",
    "/api/operations/",
    "/api/surveillance/",
    "/api/forecast/",
)
INVALIDATING = ("/api/alerts",)  # a change here can change a cached answer (the active-alerts card)
SAFE = ("GET", "HEAD", "OPTIONS")


T = TypeVar("T")


class Lru:
    """At most ``size`` values, each for ``seconds`` (None: until pushed out); least recently used first
    out. Thread-safe."""

    def __init__(self, seconds: float | None, size: int = 1024) -> None:
        self.seconds, self.size = seconds, size
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()  # expiry, value
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] < time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Hashable, value: Any) -> None:
        expiry = float("inf") if self.seconds is None else time.monotonic() + self.seconds
        with self._lock:
            self._items[key] = (expiry, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_MEMO: weakref.WeakKeyDictionary[DuckDBEngine, Lru] = weakref.WeakKeyDictionary()
_MEMO_LOCK = threading.Lock()


def memo(engine: DuckDBEngine, key: Hashable, compute: Callable[[], T], size: int = 64) -> T:
    """``compute()`` once per warehouse connection and key (the last ``size`` kept): for answers that
    cost seconds and depend only on the warehouse, which a serving connection never sees change."""
    with _MEMO_LOCK:
        store = _MEMO.setdefault(engine, Lru(None, size))
    value = store.get(key)
    if value is None:
        value = compute()
        store.put(key, value)
    return value


def install(app: FastAPI, seconds: float) -> Lru:
    """Add the cache to ``app`` (innermost of the middlewares: hits still get the guard's headers and
    the ETag)."""
    cache = Lru(seconds)
    app.state.response_cache = cache

    @app.middleware("http")
    async def cached(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if request.method not in SAFE:
            response = await call_next(request)
            if path.startswith(INVALIDATING) and response.status_code < 400:
                cache.clear()
            return response
        if seconds <= 0 or request.method != "GET" or not path.startswith(PREFIXES):
            return await call_next(request)
        token = request.cookies.get(SESSION_COOKIE)
        user = await run_in_threadpool(request.app.state.app_state.principal, token) if token else None
        if user is None:
            return await call_next(request)  # the route says 401
        key = (
            id(request.app.state.engine),
            user.role,
            user.scope_kind,
            user.scope_code,
            path,
            tuple(sorted(request.query_params.multi_items())),
        )
        if "no-cache" not in request.headers.get("cache-control", ""):
            hit = cache.get(key)
            if hit is not None:
                kept = {"X-Provista-Cache": "hit", **({"content-type": hit[1]} if hit[1] else {})}
                return Response(hit[0], headers=kept)
        response = await call_next(request)
        if response.status_code != 200:
            return response
        body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
        cache.put(key, (body, response.headers.get("content-type")))
        headers = dict(response.headers)
        headers.pop("content-length", None)
        headers["X-Provista-Cache"] = "miss"
        return Response(body, status_code=200, headers=headers, media_type=response.media_type)

    return cache
