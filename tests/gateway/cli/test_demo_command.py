"""What a newcomer types first: ``make run`` (``gateway demo``), its port, Ctrl+C, and
``gateway --version``. Run as real processes: signals and the terminal output are the point."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.cli.common import package_version
from tests.processes import REPOSITORY, clean_environment, free_port, gateway_command, running


def test_version_prints_the_package_version():
    result = CliRunner().invoke(cli, ["--version"])

    assert result.exit_code == 0
    assert result.output.strip() == f"manifold-gateway {package_version()}"
    assert package_version() != "unknown"


def test_make_run_passes_its_port_to_the_demo():
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=8001"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )

    assert "gateway demo --port 8001" in dry_run.stdout


def _busy_port() -> tuple[socket.socket, int]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    return listener, listener.getsockname()[1]


def _run_on_a_busy_port(
    command: str, tmp_path: Path
) -> tuple[int, subprocess.CompletedProcess[str]]:
    """``gateway <command> --port P`` while something else listens on P."""
    listener, port = _busy_port()
    with listener:
        result = subprocess.run(
            gateway_command(command, "--port", str(port)),
            cwd=tmp_path,
            env=clean_environment(GATEWAY_DATA_DIR=str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    return port, result


def test_the_demo_on_a_busy_port_fails_before_the_banner_in_one_line(tmp_path: Path):
    port, result = _run_on_a_busy_port("demo", tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"port {port} on 127.0.0.1 is already in use "
        "(pick another, e.g. `make run PORT=8001` or --port 8001)"
    ]
    assert not (tmp_path / "manifold.sqlite3").exists()  # nothing migrated or seeded first


def test_serve_on_a_busy_port_fails_in_one_line(tmp_path: Path):
    _, result = _run_on_a_busy_port("serve", tmp_path)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "already in use" in result.stderr


def test_ctrl_c_on_the_demo_says_shutting_down_once(tmp_path: Path):
    port = free_port()
    with running(
        gateway_command("demo", "--port", str(port)),
        port=port,
        environment=clean_environment(GATEWAY_DATA_DIR=str(tmp_path)),
        cwd=tmp_path,
    ) as demo:
        output = demo.interrupt()

    assert demo.process.returncode == 0
    assert output.count("Shutting down") == 1
    assert output.count("Application shutdown complete") == 1
    assert "Traceback" not in output
