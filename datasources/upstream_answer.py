"""One upstream answer: read within a size cap and what is left of the deadline, and how long
its ``Cache-Control`` lets us keep it.

An upstream that answers with more than we are willing to hold is dropped while streaming,
before its body is all in memory; one that trickles bytes is cut off by the deadline (httpx's
read timeout is per chunk, so it alone could be outlived).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from contract.errors import UpstreamError
from datasources.resilience import Deadline

logger = logging.getLogger("manifold.upstream")

_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache|private)\b", re.IGNORECASE)


def cache_max_age(header: str | None) -> float | None:
    """Seconds an answer may be cached: ``max-age``/``s-maxage``, 0 for ``no-store`` and
    friends, None when the header says nothing."""
    if not header:
        return None
    if _NO_CACHE.search(header):
        return 0.0
    match = _MAX_AGE.search(header)
    return float(match.group(1)) if match else None


class ResponseTooLargeError(UpstreamError):
    """The upstream answered with more than we are willing to hold in memory."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request to send: GETs carry ``params``, POSTs ``content``."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    content: bytes | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class RawAnswer:
    status: int
    headers: httpx.Headers
    body: bytes


async def read_bounded(
    client: httpx.AsyncClient,
    exchange: Exchange,
    *,
    headers: Mapping[str, str] | None,
    limits: httpx.Timeout,
    deadline: Deadline,
    limit: int,
    name: str,
) -> RawAnswer:
    """Send ``exchange`` and read its answer in chunks, refusing one over ``limit`` bytes."""

    def too_large() -> ResponseTooLargeError:
        logger.warning("%s answered more than %d bytes", name, limit)
        return ResponseTooLargeError(f"the {name} service is unavailable")

    async with asyncio.timeout(deadline.remaining()):
        async with client.stream(
            exchange.method,
            exchange.path,
            params=exchange.params,
            content=exchange.content,
            headers=headers,
            timeout=limits,
        ) as response:
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise too_large()
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise too_large()
                chunks.append(chunk)
            return RawAnswer(response.status_code, response.headers, b"".join(chunks))
