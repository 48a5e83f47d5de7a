"""Comparing GraphQL response bodies without the per-request ``extensions`` (cost, budget)."""

from __future__ import annotations

from typing import Any


def result(body: Any) -> Any:
    """``data`` and ``errors`` of a response body: what a test of a field's answer compares."""
    if isinstance(body, dict):
        return {key: value for key, value in body.items() if key != "extensions"}
    return body
