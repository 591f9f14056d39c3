"""What every benchmark shares: the memory sampler, a description of the machine and the versions, and
one way to write ``bench/results/<name>.json``."""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
PACKAGES = ("provista", "duckdb", "ibis-framework", "splink", "pyspark", "pandas", "fastapi", "playwright")


def _tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (shared pages counted in each: an upper bound)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


class PeakSampler(threading.Thread):
    """Samples the whole process tree's memory twice a second."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.running = 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _tree_rss_mib(os.getpid()))
            time.sleep(0.5)


def machine() -> dict[str, Any]:
    """The machine and the versions a figure was measured with."""
    memory_gb = None
    try:
        with open("/proc/meminfo") as f:
            memory_gb = round(int(f.readline().split()[1]) / 1024**2, 1)
    except (OSError, ValueError, IndexError):
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpus": os.cpu_count(),
        "memory_gb": memory_gb,
        "arch": platform.machine(),
        "python": platform.python_version(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def save(name: str, result: dict[str, Any]) -> Path:
    """Write ``result`` (with the machine and versions added) to bench/results/<name>.json."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    body = {**result, "machine": machine(), "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {path}")
    return path
