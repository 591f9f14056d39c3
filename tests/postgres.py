"""A throwaway PostgreSQL server for the tests that run the app state (accounts, sessions, audit log) on
PostgreSQL, as a multi-process deployment does (docs/scale.md). Debian's server binaries (`make postgres`),
a cluster in a temporary directory on a free loopback port, no fsync; stopped at the end of the session.

As root (CI containers) the server runs as Debian's ``postgres`` account, since PostgreSQL refuses root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

NO_POSTGRES = (
    "the PostgreSQL app-state tests need Debian's PostgreSQL server (initdb, pg_ctl) and none was found: "
    "run `make postgres`"
)


def server_binaries() -> Path | None:
    """The directory of initdb and pg_ctl: Debian's newest /usr/lib/postgresql/<n>/bin, else PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


class PostgresServer:
    def __init__(self, binaries: Path) -> None:
        self.bin = binaries
        # under /tmp, not pytest's tmp_path: the postgres account cannot enter root's private directories
        self.dir = Path(tempfile.mkdtemp(prefix="provista-postgres-"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(self.dir, "postgres")

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        data = self.dir / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "provista", "-E", "UTF8",
                  "--locale", "C.UTF-8", "--no-sync")  # fmt: skip
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.dir / "log"), "-w",
                  "start")  # fmt: skip

    def stop(self) -> None:
        try:
            if (self.dir / "data" / "postmaster.pid").exists():
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://provista@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A new empty database on the server; its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=provista dbname=postgres",
                             autocommit=True) as con:  # fmt: skip
            con.execute(f"CREATE DATABASE {name}")
        return self.url(name)
