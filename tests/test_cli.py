from pathlib import Path

import pytest
from typer.testing import CliRunner

from provista.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [[], ["synth"], ["demo"]])
def test_every_command_has_help(command: list[str]):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_bad_option_is_a_readable_error_not_a_traceback(tmp_path: Path):
    result = runner.invoke(app, ["synth", "--out", str(tmp_path / "x"), "--scale", "huge"])
    assert result.exit_code == 2
    assert "unknown scale 'huge'" in result.output
    assert "tiny, small, medium, large" in result.output
    assert "Traceback" not in result.output


def test_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = runner.invoke(app, ["synth", "--out", str(tmp_path), "--force"])
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("provista ")


def test_demo_generates_builds_scores_and_then_reuses(tmp_path: Path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PROVISTA_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    first = subprocess.run(
        [sys.executable, "-m", "provista", "demo", "--scale", "tiny", "--no-serve"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert first.returncode == 0, first.stderr
    assert "Cleaning scored against truth/errors.csv" in first.stdout
    assert "clean records quarantined: 0" in first.stdout
    assert (tmp_path / "data/secrets/pseudonym.key").exists()
    assert (tmp_path / "data/warehouse/provista.duckdb").exists()
    assert "Person index (EMPI) against truth/identities.csv" in first.stdout
    # The second run reuses both and ends by serving the dashboard, with the demo logins printed.
    import socket
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    again = subprocess.Popen(
        [sys.executable, "-m", "provista", "demo", "--scale", "tiny", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/auth/session").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}")
        r = client.post("/api/auth/login", json={"username": "admin", "password": "provista-admin-demo"})
        assert r.status_code == 200 and client.get("/api/overview/kpis").json()["kpis"]
    finally:
        again.terminate()
        stdout, _ = again.communicate(timeout=60)
    assert "already generated" in stdout and "already built" in stdout
    assert f"http://127.0.0.1:{port}/" in stdout and "provista-admin-demo" in stdout
