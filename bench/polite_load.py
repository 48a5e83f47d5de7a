"""A closed-loop HTTP/1.1 load generator whose clients honour ``Retry-After`` each on its own.

wrk scripts keep state per thread, not per connection: a ``Retry-After`` read from one
connection's 503 is served as a pause by whichever connection asks next, usually one that was
just answered, while the shed connection retries at once. Beyond saturation that pauses the
admitted clients and keeps the refused ones hammering, so the measured goodput says more about
the script than about the gateway. Here each connection is a coroutine that, told 503, waits
what it was told (reconnecting when the answer closed the connection) before its next request,
as a well-behaved client does.

The overload run needs a few hundred requests a second, which a lean asyncio client (prebuilt
request bytes, a minimal response parser) sends for a few percent of the core it is pinned to.
Run as ``python -m bench.polite_load URL BODY_FILE AUTHORIZATION CONNECTIONS SECONDS``; it
prints one JSON line with the same counters as the wrk script.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.stats import percentile

#: A request that takes longer than this is counted as a socket error and its connection
#: replaced, as wrk's ``--timeout`` does.
REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass
class Tally:
    ok: int = 0
    shed: int = 0
    other: int = 0
    socket_errors: int = 0
    latencies_us: list[int] = field(default_factory=list)


class _Closed(Exception):
    """The server closed the connection before a whole answer came."""


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get(b"content-length", b"0"))
    body = await reader.readexactly(length) if length else b""
    return status, headers, body


async def _client(host: str, port: int, request: bytes, stop_at: float, tally: Tally) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while time.monotonic() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            started = time.perf_counter()
            writer.write(request)
            status, headers, body = await asyncio.wait_for(_answer(reader), REQUEST_TIMEOUT_SECONDS)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
            tally.socket_errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        tally.latencies_us.append(int((time.perf_counter() - started) * 1e6))
        pause = 0.0
        if status == 200 and b'"errors"' not in body:
            tally.ok += 1
        elif status == 503:
            tally.shed += 1
            pause = float(headers.get(b"retry-after", b"1") or 1)
        else:
            tally.other += 1
        if headers.get(b"connection", b"").lower() == b"close":
            writer.close()
            reader = writer = None
        if pause:
            await asyncio.sleep(min(pause, max(0.0, stop_at - time.monotonic())))
    if writer is not None:
        writer.close()


def _percentile_us(ordered: list[int], fraction: float) -> int:
    return int(percentile(ordered, fraction)) if ordered else 0


async def run(
    url: str, body: bytes, authorization: str, connections: int, seconds: float
) -> dict[str, int]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nAuthorization: {authorization}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    tally = Tally()
    started = time.monotonic()
    stop_at = started + seconds
    await asyncio.gather(
        *(_client(host, port, request, stop_at, tally) for _ in range(connections))
    )
    duration = time.monotonic() - started
    latencies = sorted(tally.latencies_us)
    return {
        "ok": tally.ok,
        "shed": tally.shed,
        "other": tally.other,
        "socket_errors": tally.socket_errors,
        "p50_us": _percentile_us(latencies, 0.50),
        "p99_us": _percentile_us(latencies, 0.99),
        "duration_us": int(duration * 1e6),
        "requests": len(tally.latencies_us),
    }


def main(argv: list[str]) -> None:
    url, body_file, authorization, connections, seconds = argv
    with open(body_file, "rb") as source:
        body = source.read()
    result = asyncio.run(run(url, body, authorization, int(connections), float(seconds)))
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
