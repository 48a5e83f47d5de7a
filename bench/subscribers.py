"""The subscribers of ``bench.subscriptions``: N WebSocket clients in a process of their own.

Run by the benchmark (``python -m bench.subscribers``), pinned to a core the gateway does not
use, so the clients are not what is measured. Each client speaks ``graphql-transport-ws``
itself (aiohttp's WebSocket client; the protocol is five message types) and is driven in
phases by lines on stdin, answering each with one JSON line on stdout:

1. on start: open ``--connections`` sockets, ``connection_init`` with the token, wait for every
   ``connection_ack`` → ``{"phase": "connected", ...}`` (the sockets are idle now);
2. ``subscribe``: one ``orderUpdated`` subscription per socket → ``{"phase": "subscribed"}``;
3. ``collect <events>``: wait until every socket has ``events`` events (or nothing has arrived
   for ``--quiet-seconds``) → ``{"phase": "collected", ...}``: delivery latency (receipt minus
   the event's ``occurredAt``), events delivered and expected, whether each subscriber saw each
   order's versions in increasing order, with no duplicates and no gaps;
4. end of stdin: close every socket and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
import orjson

from bench.stats import percentile

PROTOCOL = "graphql-transport-ws"
#: Scalars only: the delivery path (fan-out, execution per event, the socket), not a query of
#: the order per event per subscriber.
SUBSCRIPTION = "subscription Bench { orderUpdated { id type orderId status version occurredAt } }"
CONNECT_CONCURRENCY = 100
ACK_TIMEOUT_SECONDS = 30.0


@dataclass(slots=True)
class Received:
    """What one subscriber received."""

    #: (receipt time, occurredAt, order id, version), in the order received.
    events: list[tuple[float, float, str, int]] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)
    closed: int | None = None


@dataclass(slots=True)
class Subscriber:
    socket: aiohttp.ClientWebSocketResponse
    received: Received = field(default_factory=Received)


def _occurred(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def _send(socket: aiohttp.ClientWebSocketResponse, message: dict[str, Any]) -> None:
    # The protocol's messages are text frames; a binary one closes the socket (4400).
    await socket.send_str(orjson.dumps(message).decode())


async def _connect(
    session: aiohttp.ClientSession, url: str, token: str, gate: asyncio.Semaphore
) -> Subscriber:
    async with gate:
        socket = await session.ws_connect(
            url, protocols=(PROTOCOL,), autoping=True, heartbeat=None, max_msg_size=0
        )
        await _send(
            socket, {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        async with asyncio.timeout(ACK_TIMEOUT_SECONDS):
            while True:
                message = await socket.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"no connection_ack: {message.type} {message.data!r}")
                if orjson.loads(message.data)["type"] == "connection_ack":
                    return Subscriber(socket)


async def _read(subscriber: Subscriber, progress: asyncio.Event) -> None:
    socket, received_so_far = subscriber.socket, subscriber.received
    async for message in socket:
        received = time.time()
        if message.type is not aiohttp.WSMsgType.TEXT:
            break
        data = orjson.loads(message.data)
        kind = data["type"]
        if kind == "next":
            payload = data["payload"]
            event = (payload.get("data") or {}).get("orderUpdated")
            if event is None or payload.get("errors"):
                received_so_far.errors.append(payload)
            else:
                received_so_far.events.append(
                    (received, _occurred(event["occurredAt"]), event["orderId"], event["version"])
                )
            progress.set()
        elif kind == "ping":
            await _send(socket, {"type": "pong"})
        elif kind in ("error", "complete"):
            received_so_far.errors.append(data)
    received_so_far.closed = socket.close_code


def summarize(received: Sequence[Received], expected: int) -> dict[str, Any]:
    """Delivery figures over every subscriber, who should each have ``expected`` events; an
    order's event with a lower version than one received before it is out of order, with the
    same version a duplicate."""
    latencies: list[float] = []
    out_of_order = duplicates = complete = 0
    for subscriber in received:
        last: dict[str, int] = {}
        for at, occurred, order_id, version in subscriber.events:
            latencies.append((at - occurred) * 1000)
            previous = last.get(order_id)
            if previous is not None and version == previous:
                duplicates += 1
            elif previous is not None and version < previous:
                out_of_order += 1
            last[order_id] = max(version, previous or 0)
        if len(subscriber.events) == expected:
            complete += 1
    latencies.sort()
    errors = [error for subscriber in received for error in subscriber.errors]
    return {
        "phase": "collected",
        "subscribers": len(received),
        "delivered": sum(len(subscriber.events) for subscriber in received),
        "expected": expected * len(received),
        "complete_subscribers": complete,
        "out_of_order": out_of_order,
        "duplicates": duplicates,
        "errors": len(errors),
        "first_errors": errors[:3],
        "closed": sorted({s.closed for s in received if s.closed is not None}),
        "latency_ms": {
            "p50": percentile(latencies, 0.50),
            "p99": percentile(latencies, 0.99),
            "max": latencies[-1] if latencies else float("nan"),
        },
    }


def _say(report: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(report).decode() + "\n")
    sys.stdout.flush()


async def _collect(
    subscribers: Sequence[Subscriber], progress: asyncio.Event, expected: int, quiet: float
) -> None:
    """Until every subscriber has ``expected`` events, or none came for ``quiet`` seconds."""
    while sum(len(s.received.events) for s in subscribers) < expected * len(subscribers):
        progress.clear()
        try:
            await asyncio.wait_for(progress.wait(), quiet)
        except TimeoutError:
            return


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.subscribers", description=__doc__)
    parser.add_argument("--url", required=True, help="ws://host:port/graphql")
    parser.add_argument("--token", required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--quiet-seconds", type=float, default=15.0)
    args = parser.parse_args(argv)

    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        started = time.perf_counter()
        subscribers = list(
            await asyncio.gather(
                *(_connect(session, args.url, args.token, gate) for _ in range(args.connections))
            )
        )
        _say({"phase": "connected", "connections": len(subscribers),
              "seconds": round(time.perf_counter() - started, 3)})  # fmt: skip
        progress = asyncio.Event()
        readers = [asyncio.ensure_future(_read(s, progress)) for s in subscribers]
        try:
            while line := (await stdin.readline()).decode().split():
                if line[0] == "subscribe":
                    for number, subscriber in enumerate(subscribers):
                        await _send(
                            subscriber.socket,
                            {
                                "type": "subscribe",
                                "id": str(number),
                                "payload": {"query": SUBSCRIPTION},
                            },
                        )
                    _say({"phase": "subscribed"})
                elif line[0] == "collect":
                    expected = int(line[1])
                    await _collect(subscribers, progress, expected, args.quiet_seconds)
                    report = summarize([s.received for s in subscribers], expected)
                    usage = resource.getrusage(resource.RUSAGE_SELF)
                    # The clients' own CPU time so far: far below the delivery's wall time means
                    # the clients kept up and the gateway is what was measured.
                    report["client_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 3)
                    _say(report)
        finally:
            for reader in readers:
                reader.cancel()
            for subscriber in subscribers:
                with contextlib.suppress(Exception):
                    await subscriber.socket.close()


if __name__ == "__main__":
    asyncio.run(main())
