"""Shape limits compare a measured shape with the configured bounds; pure, no server."""

from __future__ import annotations

import logging

import pytest
from graphql import GraphQLSyntaxError

from contract.errors import ErrorCode
from gateway.operations import limits
from gateway.operations.analysis import Shape
from gateway.settings import LimitsMode

LIMITS = limits.ShapeLimits(
    max_depth=3, max_aliases=2, max_tokens=20, max_directives=1, max_root_fields=2
)


def codes(found: list[limits.Violation]) -> list[ErrorCode]:
    return [violation.code for violation in found]


def test_a_shape_within_every_limit_has_no_violation():
    assert limits.check(Shape(depth=3, aliases=2, directives=1, root_fields=2), LIMITS) == []


@pytest.mark.parametrize(
    ("shape", "code"),
    [
        (Shape(depth=4), ErrorCode.MAX_DEPTH_LIMIT),
        (Shape(aliases=3), ErrorCode.MAX_ALIASES_LIMIT),
        (Shape(directives=2), ErrorCode.MAX_DIRECTIVES_LIMIT),
        (Shape(root_fields=3), ErrorCode.MAX_ROOT_FIELDS_LIMIT),
    ],
)
def test_each_limit_has_its_own_code(shape, code):
    assert codes(limits.check(shape, LIMITS)) == [code]


def test_every_violation_is_reported_at_once():
    found = limits.check(Shape(depth=9, aliases=9), LIMITS, over_tokens=True)
    assert codes(found) == [
        ErrorCode.MAX_DEPTH_LIMIT,
        ErrorCode.MAX_ALIASES_LIMIT,
        ErrorCode.MAX_TOKENS_LIMIT,
    ]


def test_a_violation_names_the_measure_and_the_limit():
    (violation,) = limits.check(Shape(depth=7), LIMITS)
    assert violation.message == "Query depth 7 exceeds the maximum of 3."


def test_measure_mode_logs_violations_and_rejects_nothing(caplog):
    measuring = limits.ShapeLimits(
        max_depth=3,
        max_aliases=2,
        max_tokens=20,
        max_directives=1,
        max_root_fields=2,
        mode=LimitsMode.MEASURE,
    )
    with caplog.at_level(logging.WARNING, logger="manifold.limits"):
        assert limits.check(Shape(depth=4), measuring) == []
    assert "MAX_DEPTH_LIMIT" in caplog.text


def test_parsing_stops_at_the_token_limit():
    with pytest.raises(GraphQLSyntaxError) as raised:
        limits.parse_limited("{ " + "me { id } " * 20 + "}", LIMITS)
    assert limits.is_token_limit_error(raised.value)


def test_measure_mode_parses_past_the_token_limit_and_flags_it():
    measuring = limits.ShapeLimits(
        max_depth=3,
        max_aliases=2,
        max_tokens=5,
        max_directives=1,
        max_root_fields=2,
        mode=LimitsMode.MEASURE,
    )
    _, over_tokens = limits.parse_limited("{ me { id name } }", measuring)
    assert over_tokens
