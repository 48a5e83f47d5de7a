"""Human-friendly durations for CLI options such as ``gateway token --ttl 15m``."""

from __future__ import annotations

import re

__all__ = ["parse_duration"]

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+)([smhd])", re.ASCII)
_WHOLE = re.compile(r"(?:\d+[smhd])+|\d+", re.ASCII)


def parse_duration(text: str) -> int:
    """Seconds in ``"90s"``, ``"15m"``, ``"1h30m"``, ``"7d"`` or a bare ``"3600"``.

    Refuses zero and anything unparsed: a typo in a TTL should stop the command, not mint a
    token that expires at once or lives for ever.
    """
    cleaned = text.strip().lower()
    if not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 1h, 7d)")
    if cleaned.isdigit():
        seconds = int(cleaned)
    else:
        seconds = sum(int(amount) * _UNIT_SECONDS[unit] for amount, unit in _PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {text!r}")
    return seconds
