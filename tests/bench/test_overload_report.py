"""The overload report's verdict: goodput at every load within 90 % of the best one."""

from __future__ import annotations

from bench.overload import OverloadStep, holds, render_overload


def step(multiple: int, goodput: float) -> OverloadStep:
    return OverloadStep(multiple, 16 * multiple, goodput + 10, goodput, 10, 0, 0, 5.0, 50.0)


def test_goodput_within_ninety_percent_of_the_peak_holds():
    assert holds([step(1, 100), step(2, 95), step(4, 92), step(8, 90)])


def test_goodput_collapsing_under_overload_does_not_hold():
    steps = [step(1, 100), step(2, 100), step(4, 70), step(8, 50)]

    assert not holds(steps)
    assert "does NOT hold" in render_overload(steps)
