"""``gateway schema check OLD.graphql`` against the schema of this build."""

from __future__ import annotations

from typer.testing import CliRunner

from gateway.cli import app as cli
from schema import build_schema


def current_sdl() -> str:
    return build_schema().as_str()


def test_an_unchanged_schema_passes(tmp_path):
    old = tmp_path / "old.graphql"
    old.write_text(current_sdl())

    result = CliRunner().invoke(cli, ["schema", "check", str(old)])

    assert result.exit_code == 0
    assert "no breaking or dangerous changes" in result.output


def test_a_removed_field_is_breaking_and_fails(tmp_path):
    old = tmp_path / "old.graphql"
    # The published schema had a field this build no longer has.
    old.write_text(
        current_sdl().replace("  name: String!", "  name: String!\n  nickname: String", 1)
    )

    result = CliRunner().invoke(cli, ["schema", "check", str(old)])

    assert result.exit_code == 1
    assert "BREAKING  FIELD_REMOVED" in result.output
    assert "nickname" in result.output


def test_a_dangerous_change_is_reported_without_failing(tmp_path):
    sdl = current_sdl()
    enum_start = sdl.index("enum OrderStatus {")
    first_value = sdl[enum_start:].splitlines()[1]
    old = tmp_path / "old.graphql"
    old.write_text(sdl.replace(first_value + "\n", "", 1))  # this build added that value

    result = CliRunner().invoke(cli, ["schema", "check", str(old)])

    assert result.exit_code == 0
    assert "DANGEROUS VALUE_ADDED_TO_ENUM" in result.output


def test_an_unreadable_old_schema_fails(tmp_path):
    old = tmp_path / "old.graphql"
    old.write_text("type {")

    result = CliRunner().invoke(cli, ["schema", "check", str(old)])

    assert result.exit_code == 1
