"""Benchmark the web platform: API latency under concurrent clients and page render time in Chromium.

    python bench/bench_api.py --warehouse FILE [--clients 8] [--requests 400] [--label medium]
    python bench/bench_api.py --warehouse DIR --label spark-medium      # a Spark-built warehouse

A Spark-built warehouse (a directory) is served as `provista serve --engine spark` serves it: its Parquet
tables as views of the embedded engine; the bare SQL floor reads them the same way.

Serves the warehouse with uvicorn in a process of its own (as `provista serve` does), logs in as the
province-wide demo user, then for each dashboard endpoint runs ``--clients`` concurrent clients on loopback,
each sending requests back to back (no If-None-Match: every answer is sent whole), twice: computed afresh
(``Cache-Control: no-cache``) and as users get it after the first request (the answer cache of
``api/cache.py``). Reports p50 / p95 / p99 latency and requests per second. Two floors, measured in the same
run: `/api/auth/me`, which reads the session and no warehouse table (the cost of HTTP, the framework and the
session check alone), and a bare SQL query of a mart sent to DuckDB by as many threads (no HTTP at all).
Then Debian's Chromium (Playwright) opens the overview and the map pages cold, five times each, and times
them until every chart is drawn. Goals (issue 5): p95 under 100 ms, pages under 2 s. Writes
bench/results/api-<label>.json. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from common import save
from provista.engine import is_spark_warehouse
from provista.web.headless import launch, log_in

ENDPOINTS = [
    "/api/auth/me",  # the floor
    "/api/overview/kpis",
    "/api/map/boundaries?level=city",
    "/api/map/metric?metric=visits_per_10k&level=city",
    "/api/map/metric?metric=bed_occupancy&level=county&parent=330100",
    "/api/map/metric?metric=incidence&level=city",
    "/api/map/hospitals?county=330106",
    "/api/trends/visits?by=type&grain=week",
    "/api/trends/visits?by=department&level=tertiary&grain=month",
    "/api/trends/facets",
    "/api/trends/heatmap?kind=chapter_week",
    "/api/trends/heatmap?kind=department_hour",
    "/api/quality/hospitals",
]
PAGES = {  # page → how many charts it draws when complete
    "overview": ("#/overview", 4),
    "map": ("#/map", 3),
}


def start_server(warehouse: Path, app_db: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "import sys, uvicorn; from pathlib import Path; from provista.api.app import create_app; "
        "uvicorn.run(create_app(Path(sys.argv[1]), sys.argv[2]), host='127.0.0.1', port=int(sys.argv[3]), "
        "log_level='warning')"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(warehouse), app_db, str(port)])
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(url + "/api/auth/session", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def session_cookies(url: str) -> dict[str, str]:
    r = httpx.post(url + "/api/auth/login", json={"username": "admin", "password": "provista-admin-demo"})
    r.raise_for_status()
    return dict(r.cookies)


def hammer(
    url: str, path: str, cookies: dict[str, str], clients: int, requests: int, computed: bool = False
) -> dict[str, float]:
    """``clients`` threads, each with its own connection, share ``requests`` requests to one endpoint;
    ``computed``: each request asks for a fresh answer (``Cache-Control: no-cache``), not the kept one."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = max(1, requests // clients)

    def client() -> None:
        nonlocal errors
        headers = {"Cache-Control": "no-cache"} if computed else {}
        with httpx.Client(base_url=url, cookies=cookies, timeout=60, headers=headers) as c:
            c.get(path)  # warm the connection
            for _ in range(per_client):
                start = time.perf_counter()
                r = c.get(path)
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)
                    errors += r.status_code != 200

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {
        "requests": len(ms),
        "errors": errors,
        **quantiles(ms, 1),
        "per_second": round(len(ms) / wall, 1),
    }


BARE_SQL = """SELECT h.city_code, sum(v.visits) FROM mart_visits_daily v JOIN hospital h USING (hospital_id)
               WHERE v.day > (SELECT max(day) FROM mart_visits_daily) - INTERVAL 28 DAY GROUP BY 1"""


def bare_sql(warehouse: Path, clients: int, requests: int) -> dict[str, float]:
    """The floor for a data endpoint: a bare SQL query of a mart (the city visits of the last four weeks),
    sent by ``clients`` threads to DuckDB directly (one connection, a cursor each): no HTTP, no framework.
    A Spark warehouse is read as the API reads it: its Parquet tables as views of the embedded engine."""
    from provista.engine.duckdb import DuckDBEngine

    con = DuckDBEngine(warehouse, read_only=True).con
    latencies: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        cursor = con.cursor()
        cursor.execute(BARE_SQL).fetchall()
        for _ in range(max(1, requests // clients)):
            start = time.perf_counter()
            cursor.execute(BARE_SQL).fetchall()
            with lock:
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    con.close()
    ms = np.array(latencies) * 1000
    return quantiles(ms, 2)


def size_bytes(path: Path) -> int:
    """Bytes of a warehouse file, or of every file of a Spark warehouse directory."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def quantiles(ms: np.ndarray, digits: int) -> dict[str, float]:
    """p50, p95 and p99 of latencies in milliseconds."""
    return {f"p{p}_ms": round(float(np.percentile(ms, p)), digits) for p in (50, 95, 99)}


def render_times(url: str, repeats: int = 5) -> dict[str, dict[str, float]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, dict[str, float]] = {}
    with sync_playwright() as p:
        browser = launch(p)
        for name, (route, charts) in PAGES.items():
            times = []
            for _ in range(repeats):
                # bypass_csp: the probes below are evaluated in the page
                context = browser.new_context(viewport={"width": 1600, "height": 900}, bypass_csp=True)
                page = context.new_page()
                log_in(page, url)
                page.goto("about:blank")
                start = time.perf_counter()
                page.goto(url + "/" + route)  # cold page: scripts, i18n, session, data, charts
                page.wait_for_function(
                    f"document.querySelectorAll('main canvas').length >= {charts}", timeout=60_000
                )
                page.wait_for_function(  # every chart has finished its first frame
                    "[...document.querySelectorAll('main [_echarts_instance_]')].every("
                    "el => { const c = echarts.getInstanceByDom(el); return c && !c.isDisposed() "
                    "&& c.getZr().painter.getViewportRoot() }) "
                    "&& !/加载中|Loading/.test(document.querySelector('main').textContent)",
                    timeout=60_000,
                )
                times.append(time.perf_counter() - start)
                context.close()
            out[name] = {"median_s": round(statistics.median(times), 2), "max_s": round(max(times), 2)}
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="requests per endpoint, all clients")
    parser.add_argument("--label", default=None, help="name of the results file (default: warehouse stem)")
    args = parser.parse_args()
    from provista.api.serve import seed_demo_users
    from provista.api.state import AppState

    work = Path(tempfile.mkdtemp(prefix="provista-bench-api-"))
    app_db = f"sqlite:///{work / 'app.sqlite'}"
    seed_demo_users(AppState(app_db), args.warehouse)
    proc, url = start_server(args.warehouse, app_db)
    try:
        cookies = session_cookies(url)
        rows = []
        for path in ENDPOINTS:
            figures = hammer(url, path, cookies, args.clients, args.requests, computed=True)
            kept = hammer(url, path, cookies, args.clients, args.requests)
            cached = {f"cached_{k}": kept[k] for k in ("p50_ms", "p95_ms", "p99_ms", "per_second")}
            rows.append({"endpoint": path, **figures, **cached})
            print(
                f"{path:70} p95 {figures['p95_ms']:8.1f} ms computed, {kept['p95_ms']:6.1f} ms cached",
                flush=True,
            )
        pages = render_times(url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    sql = bare_sql(args.warehouse, args.clients, args.requests)
    table = pd.DataFrame(rows)
    floor = float(table.loc[table["endpoint"] == "/api/auth/me", "p95_ms"].iloc[0])
    table["p95_over_floor"] = (table["p95_ms"] / floor).round(1)
    table["p95_over_bare_sql"] = (table["p95_ms"] / max(sql["p95_ms"], 0.01)).round(1)
    print(f"bare SQL on a mart, {args.clients} threads: p50 {sql['p50_ms']} ms, p95 {sql['p95_ms']} ms")
    print(table.to_string(index=False))
    for name, fig in pages.items():
        print(f"page {name}: median {fig['median_s']} s, max {fig['max_s']} s (cold, until all charts drawn)")
    results = {
        "benchmark": "api",
        "warehouse": str(args.warehouse),
        "engine": "spark" if is_spark_warehouse(args.warehouse) else "duckdb",
        "warehouse_gb": round(size_bytes(args.warehouse) / 1e9, 2),
        "clients": args.clients,
        "endpoints": rows,
        "floor_p95_ms": floor,
        "bare_sql": sql,
        "worst_p95_ms": float(table["p95_ms"].max()),
        "worst_cached_p95_ms": float(table["cached_p95_ms"].max()),
        "pages": pages,
    }
    label = args.label or args.warehouse.stem
    save(f"api-{label}", results)


if __name__ == "__main__":
    main()
