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
