"""The cyclic garbage collector, tuned for a server that allocates per request.

A request builds thousands of short-lived objects (records, GraphQL values, dicts), which
trip CPython's default first-generation threshold (700 allocations) dozens of times per request;
each collection then walks every object still alive, the app's own modules, schema and caches
included. Freezing what start-up built moves it out of every collection, and a higher threshold
makes collections rarer and each one cheap: together they roughly halve the CPU of a large
query. The cost is memory: garbage in reference cycles lives longer before it is collected,
which ``bench/`` measures as peak RSS (docs/operations.md states the figure).
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger("manifold")


def tune_gc(*, freeze: bool, threshold: int) -> None:
    """Apply once the process has built what it keeps for its lifetime (the lifespan)."""
    if threshold > 0:
        _, second, third = gc.get_threshold()
        gc.set_threshold(threshold, second, third)
    if freeze:
        gc.collect()
        gc.freeze()
    logger.debug(
        "garbage collector: threshold %s, frozen %s", gc.get_threshold(), gc.get_freeze_count()
    )
