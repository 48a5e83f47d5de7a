"""``gateway schema check OLD.graphql`` against the schema of this build."""

from __future__ import annotations

from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.cli.schema_check import compare
from schema import build_schema

DIRECTIVE = "directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION\n"


def sdl(recommendations: str = "", me: str = "") -> str:
    """A small schema whose two fields carry the given ``@requiresScopes`` (or none)."""
    return (
        DIRECTIVE
        + "type Query {\n"
        + f"  recommendations: [String!]! {recommendations}\n"
        + f"  me: String {me}\n"
        + "}\n"
    )


def requires(*alternatives: list[str]) -> str:
    groups = ", ".join("[" + ", ".join(f'"{s}"' for s in group) + "]" for group in alternatives)
    return f"@requiresScopes(scopes: [{groups}])"


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


def test_an_unparseable_old_schema_is_one_line_and_exit_2(tmp_path):
    old = tmp_path / "old.graphql"
    old.write_text("type {")

    result = CliRunner().invoke(cli, ["schema", "check", str(old)])

    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.startswith("old.graphql is not a valid schema: Syntax Error")
    assert len(result.output.strip().splitlines()) == 1


def test_an_invalid_old_schema_is_one_line_and_exit_2(tmp_path):
    old = tmp_path / "old.graphql"
    old.write_text("type Query { me: NoSuchType }")  # parses, but does not build

    result = CliRunner().invoke(cli, ["schema", "check", str(old)])

    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.startswith("old.graphql is not a valid schema: ")
    assert "NoSuchType" in result.output
    assert "Traceback" not in result.output


def test_a_missing_old_schema_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["schema", "check", str(tmp_path / "nope.graphql")])

    assert result.exit_code == 2
    assert result.output.startswith("cannot read ")
    assert len(result.output.strip().splitlines()) == 1


def test_a_field_that_gains_a_scope_requirement_is_breaking():
    changes = compare(sdl(), sdl(recommendations=requires(["content:read"])))

    assert changes.is_breaking
    assert [change.type.name for change in changes.breaking] == ["SCOPE_REQUIREMENT_ADDED"]
    assert changes.breaking[0].description == (
        "Query.recommendations now requires scope content:read: callers without it get FORBIDDEN"
    )


def test_a_scope_requirement_made_stricter_is_breaking():
    changes = compare(
        sdl(me=requires(["users:read"])), sdl(me=requires(["users:read", "users:email"]))
    )

    assert [change.type.name for change in changes.breaking] == ["SCOPE_REQUIREMENT_CHANGED"]
    assert changes.breaking[0].description == (
        "Query.me now requires scopes users:email and users:read instead of scope users:read: "
        "callers without it get FORBIDDEN"
    )


def test_a_scope_requirement_replaced_by_another_is_breaking():
    changes = compare(sdl(me=requires(["users:read"])), sdl(me=requires(["orders:read"])))

    assert [change.type.name for change in changes.breaking] == ["SCOPE_REQUIREMENT_CHANGED"]
    assert changes.breaking[0].description == (
        "Query.me now requires scope orders:read instead of scope users:read: "
        "callers without it get FORBIDDEN"
    )


def test_a_removed_scope_requirement_is_dangerous_not_breaking():
    changes = compare(sdl(recommendations=requires(["content:read"])), sdl())

    assert not changes.is_breaking
    assert [change.type.name for change in changes.dangerous] == ["SCOPE_REQUIREMENT_REMOVED"]
    assert changes.dangerous[0].description.startswith(
        "Query.recommendations no longer requires scope content:read"
    )


def test_a_relaxed_scope_requirement_is_dangerous_not_breaking():
    changes = compare(
        sdl(me=requires(["users:read", "users:email"])),
        sdl(me=requires(["users:read"], ["admin:api-keys"])),
    )

    assert not changes.is_breaking
    assert [change.type.name for change in changes.dangerous] == ["SCOPE_REQUIREMENT_RELAXED"]
    assert "more widely readable" in changes.dangerous[0].description


def test_the_same_requirement_written_in_another_order_is_no_change():
    changes = compare(sdl(me=requires(["a", "b"], ["c"])), sdl(me=requires(["c"], ["b", "a"])))

    assert changes.breaking == []
    assert changes.dangerous == []


def test_check_fails_when_the_old_schema_lacked_a_scope_requirement(tmp_path):
    current = current_sdl()
    gated = ' @requiresScopes(scopes: [["users:read"]])'
    line = next(line for line in current.splitlines() if line.startswith("  user(id: ID!)"))
    assert gated in line
    old = tmp_path / "old.graphql"
    old.write_text(current.replace(line, line.replace(gated, ""), 1))

    result = CliRunner().invoke(cli, ["schema", "check", str(old)])

    assert result.exit_code == 1
    assert "BREAKING  SCOPE_REQUIREMENT_ADDED: Query.user now requires scope users:read" in (
        result.output
    )
