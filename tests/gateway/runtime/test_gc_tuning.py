"""The garbage collector's settings apply to the serving process once it has started."""

from __future__ import annotations

import gc

import pytest

from gateway.runtime.gc_tuning import tune_gc


@pytest.fixture
def restored_gc():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_first_generation_threshold_is_raised(restored_gc):
    tune_gc(freeze=False, threshold=50_000)
    assert gc.get_threshold()[0] == 50_000


def test_what_start_up_built_is_frozen_out_of_collections(restored_gc):
    tune_gc(freeze=True, threshold=0)
    assert gc.get_freeze_count() > 0


def test_a_zero_threshold_leaves_pythons_own(restored_gc):
    before = gc.get_threshold()
    tune_gc(freeze=False, threshold=0)
    assert gc.get_threshold() == before
