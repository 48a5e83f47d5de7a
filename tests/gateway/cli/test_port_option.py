"""``--port`` outside what a TCP port can be: one line and exit 2, as a busy port is, before
anything is migrated, started or printed (``bind()`` would raise ``OverflowError`` later, as a
traceback)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.cli.common import check_port
from tests.processes import clean_environment, gateway_command

EXPECTED_RANGE = "pick one from 0 to 65535 (e.g. `make run PORT=8001` or --port 8001)"


def invoke(tmp_path: Path, *arguments: str):
    return CliRunner().invoke(cli, list(arguments), env={"GATEWAY_DATA_DIR": str(tmp_path)})


@pytest.mark.parametrize("port", ["65536", "99999", "-1"])
def test_serve_refuses_a_port_outside_0_to_65535_in_one_line(tmp_path: Path, port: str):
    result = invoke(tmp_path, "serve", "--port", port)

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"port {port} is not a TCP port: {EXPECTED_RANGE}"
    ]
    assert result.stdout == ""


@pytest.mark.parametrize("port", ["65536", "99999", "0"])
def test_the_demo_refuses_a_port_it_cannot_announce_before_migrating(tmp_path: Path, port: str):
    result = invoke(tmp_path, "demo", "--port", port)

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"port {port} is not a port the demo can announce: pick one from 1 to 65535 "
        "(e.g. `make run PORT=8001` or --port 8001)"
    ]
    assert result.stdout == ""
    assert not (tmp_path / "manifold.sqlite3").exists()


def test_an_out_of_range_port_in_a_real_process_is_one_line_without_a_traceback(tmp_path: Path):
    result = subprocess.run(
        gateway_command("demo", "--port", "99999"),
        cwd=tmp_path,
        env=clean_environment(GATEWAY_DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert "OverflowError" not in result.stderr


def test_serve_takes_every_port_from_0_which_is_any_free_one_to_65535():
    assert [check_port(port) for port in (0, 1, 8000, 65535)] == [0, 1, 8000, 65535]
