"""Summarise bench/results/*.json: one table of every benchmark beside its floor or peer, and how cost grows.

    python bench/report.py [--plot docs/growth.svg]

How cost grows: build time, peak memory and the API's p95 against the encounters of each scale measured
(the encounters come from synth-<scale>.json), per engine, on log-log axes, with the slope between
neighbouring scales (1.0: cost proportional to size; below 1: fixed costs still count). Writes the plot
as a plain SVG (no plotting library needed) and bench/results/growth.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from pathlib import Path
from typing import Any

from common import RESULTS, save

ROOT = Path(__file__).resolve().parents[1]
SCALES = ("tiny", "small", "medium", "large")


def load() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESULTS.glob("*.json"))}


def summary(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, floor or peer, ratio) for every result file."""
    rows = []
    for name, r in results.items():
        kind = name.split("-")[0]
        if kind == "synth" and "over_floor" in r:
            figure = f"{r['rows_per_second']:,} rows/s"
            rows.append((name, figure, f"disk write {r['floor_write_seconds']} s", f"{r['over_floor']}×"))
        elif kind == "build":
            figure = (
                f"{r['build_records_per_second']:,} records/s, peak {r['peak_rss_all_processes_mib']:,} MiB"
            )
            floor = f"DuckDB read_csv→Parquet {r['floor_rows_per_second']:,} rows/s"
            rows.append((name, figure, floor, f"{r['build_over_floor']}×"))
        elif kind == "link":
            plain = r.get("splink_plain")
            figure = f"{r['records_per_minute']:,} records/min, F1 {r['f1']:.4f}"
            if plain:
                peer = f"Splink plain {plain['records_per_minute']:,}/min"
                rows.append((name, figure, peer, f"{r['over_splink_plain']}×"))
            else:
                rows.append((name, figure, "Splink published ~1,000,000/min", "—"))
        elif kind == "indicators":
            worst = max(r["queries"], key=lambda q: q["seconds"])
            figure = f"{worst['query']}: {worst['seconds']} s"
            rows.append((name, figure, f"bare SQL scans {r['floor_seconds']} s", f"{worst['over_floor']}×"))
        elif kind == "detect":
            for m in r.get("methods", []):
                if m.get("r") and m["r"].get("seconds"):
                    ours, theirs = m["panel"]["series_per_second"], m["r"]["series_per_second"]
                    label = f"{name} {m['method']} {m['frequency']}"
                    peer = f"R surveillance {theirs:,} series/s"
                    rows.append((label, f"{ours:,} series/s", peer, f"{theirs / ours:.2f}× R's time"))
        elif kind == "api":
            sql = r.get("bare_sql", {}).get("p95_ms")
            pages = ", ".join(f"{k} {v['median_s']} s" for k, v in r.get("pages", {}).items())
            cached = f" (cached {r['worst_cached_p95_ms']} ms)" if "worst_cached_p95_ms" in r else ""
            figure = f"worst p95 {r['worst_p95_ms']} ms{cached}; pages {pages}"
            if sql:
                rows.append((name, figure, f"bare SQL p95 {sql} ms", f"{r['worst_p95_ms'] / sql:.1f}×"))
            else:
                rows.append((name, figure, f"/api/auth/me p95 {r['floor_p95_ms']} ms", "—"))
    return rows


def growth(results: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, float]]]:
    """Per series (e.g. ``duckdb build seconds``): points (encounters, value) in scale order."""
    # from about a million encounters (tiny is all fixed cost, and its figures predate the full build)
    encounters = {s: results[f"synth-{s}"]["encounters"] for s in SCALES[1:] if f"synth-{s}" in results}
    series: dict[str, list[dict[str, float]]] = {}
    for scale in SCALES:
        if scale not in encounters:
            continue
        n = encounters[scale]
        for engine in ("duckdb", "spark"):
            build = results.get(f"build-{scale}" if engine == "duckdb" else f"build-spark-{scale}")
            if build:
                series.setdefault(f"{engine} build (s)", []).append({"x": n, "y": build["build_seconds"]})
                series.setdefault(f"{engine} peak memory (MiB)", []).append(
                    {"x": n, "y": build["peak_rss_all_processes_mib"]}
                )
        for engine in ("duckdb", "spark"):
            api = results.get(f"api-{scale}" if engine == "duckdb" else f"api-spark-{scale}")
            if not api:
                continue
            name = "API" if engine == "duckdb" else "spark API"
            computed = {"x": n, "y": api["worst_p95_ms"]}
            series.setdefault(f"{name} worst p95, computed (ms)", []).append(computed)
            if "worst_cached_p95_ms" in api:
                cached = {"x": n, "y": api["worst_cached_p95_ms"]}
                series.setdefault(f"{name} worst p95, cached (ms)", []).append(cached)
    for points in series.values():
        for a, b in itertools.pairwise(points):
            b["slope"] = round(math.log(b["y"] / a["y"]) / math.log(b["x"] / a["x"]), 2)
    return series


def svg(series: dict[str, list[dict[str, float]]]) -> str:
    """A log-log line chart of every series, each scaled to its own first point (relative cost)."""
    w, h, pad = 720, 420, 60
    colours = ["#c23531", "#2f4554", "#61a0a8", "#d48265", "#91c7ae", "#749f83", "#ca8622", "#6e7074"]
    xs = [p["x"] for pts in series.values() for p in pts]
    rel = [p["y"] / pts[0]["y"] for pts in series.values() for p in pts]
    x0, x1 = math.log10(min(xs) / 1.5), math.log10(max(xs) * 1.5)
    y0, y1 = math.log10(min(min(rel), 1) / 1.5), math.log10(max(max(rel), 10) * 1.5)

    def px(x: float) -> float:
        return pad + (math.log10(x) - x0) / (x1 - x0) * (w - 2 * pad)

    def py(y: float) -> float:
        return h - pad - (math.log10(y) - y0) / (y1 - y0) * (h - 2 * pad)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
        f'font-size="12"><rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">How cost grows with encounters '
        "(each series relative to its smallest scale; log-log)</text>",
    ]
    for k in range(math.ceil(x0), math.floor(x1) + 1):
        x = px(10**k)
        out.append(f'<line x1="{x}" y1="{pad}" x2="{x}" y2="{h - pad}" stroke="#eee"/>')
        out.append(f'<text x="{x}" y="{h - pad + 16}" text-anchor="middle">10^{k}</text>')
    for k in range(math.ceil(y0), math.floor(y1) + 1):
        y = py(10**k)
        out.append(f'<line x1="{pad}" y1="{y}" x2="{w - pad}" y2="{y}" stroke="#eee"/>')
        out.append(f'<text x="{pad - 6}" y="{y + 4}" text-anchor="end">{10**k:g}×</text>')
    out.append(f'<text x="{w / 2}" y="{h - 18}" text-anchor="middle">encounters</text>')
    xa = min(xs)  # the proportional line (slope 1) for reference, up to the top of the plot
    xb = min(max(xs), xa * 10**y1)
    out.append(
        f'<line x1="{px(xa)}" y1="{py(1)}" x2="{px(xb)}" y2="{py(xb / xa)}" stroke="#999" '
        'stroke-dasharray="4 4"/>'
    )
    for i, (name, pts) in enumerate(series.items()):
        colour = colours[i % len(colours)]
        coords = " ".join(f"{px(p['x']):.1f},{py(p['y'] / pts[0]['y']):.1f}" for p in pts)
        out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for p in pts:
            out.append(
                f'<circle cx="{px(p["x"]):.1f}" cy="{py(p["y"] / pts[0]["y"]):.1f}" r="3" fill="{colour}"/>'
            )
        slopes = ", ".join(str(p["slope"]) for p in pts if "slope" in p) or "one scale"
        out.append(
            f'<text x="{pad + 10}" y="{pad + 16 + 16 * i}" fill="{colour}">{name}: slope {slopes}</text>'
        )
    out.append(
        f'<text x="{pad + 10}" y="{pad + 16 + 16 * len(series)}" fill="#999">'
        "dashed: proportional (slope 1)</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "growth.svg")
    args = parser.parse_args()
    results = load()
    rows = summary(results)
    widths = [max(len(r[i]) for r in rows) for i in range(4)] if rows else [0] * 4
    for r in [("benchmark", "figure", "floor or peer (same run)", "ratio"), *rows]:
        print("  ".join(c.ljust(wd) for c, wd in zip(r, widths, strict=True)))
    series = growth(results)
    print()
    for name, pts in series.items():
        line = "; ".join(
            f"{p['x']:,} → {p['y']:,}" + (f" (slope {p['slope']})" if "slope" in p else "") for p in pts
        )
        print(f"{name}: {line}")
    if series:
        args.plot.write_text(svg(series), encoding="utf-8")
        print(f"plot written to {args.plot}")
    save("growth", {"series": series})


if __name__ == "__main__":
    main()
