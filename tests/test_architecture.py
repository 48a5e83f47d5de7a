"""The layering is a contract: import-linter (run by ``make check``) fails when an import runs
the wrong way. Proven on a copy of the source with one such import added."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    *("contract", "auth", "datasources", "resolvers", "schema", "gateway"),
    *("demo", "migrations", "bench"),
)


def lint_imports(source: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the packages under ``source`` (found first on the path)."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())",
            "--config",
            str(REPO_ROOT / ".importlinter"),
            "--no-cache",
        ],
        cwd=source,
        env={**os.environ, "PYTHONPATH": str(source)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("source")
    for package in PACKAGES:
        shutil.copytree(
            REPO_ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return copy


def add_import(source: Path, module: str, statement: str) -> None:
    path = source / module
    path.write_text(path.read_text() + f"\n{statement}\n")


def test_the_source_keeps_every_contract(source_copy: Path):
    result = lint_imports(source_copy)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_datasource_importing_the_gateway_breaks_the_layers(source_copy: Path, tmp_path: Path):
    broken = tmp_path / "broken"
    shutil.copytree(source_copy, broken)
    add_import(broken, "datasources/sql.py", "import gateway.settings  # noqa: E402")

    result = lint_imports(broken)

    assert result.returncode != 0
    assert "datasources is not allowed to import gateway" in result.stdout


def test_a_resolver_importing_strawberry_breaks_the_contract(source_copy: Path, tmp_path: Path):
    broken = tmp_path / "broken"
    shutil.copytree(source_copy, broken)
    add_import(broken, "resolvers/orders.py", "import strawberry  # noqa: E402")

    result = lint_imports(broken)

    assert result.returncode != 0
    assert "resolvers.orders -> strawberry" in result.stdout
