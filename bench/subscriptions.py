"""``python -m bench.subscriptions``: many subscribers on one gateway process, and a burst.

One gateway worker (``bench.run.benchmark_gateway``: a seeded scratch database, the demo
upstreams, Redis when ``--redis-url`` is given, else the in-process broker) and, in a process of
their own on the other core, ``--subscribers`` WebSocket clients (``bench.subscribers``). Then:

1. **RSS per idle connection**: the gateway's resident memory before the clients connect, after
   every socket is acknowledged (idle: no subscription yet), and after each has subscribed to
   ``orderUpdated`` (still idle: no event). The differences divided by the number of sockets.
2. **A burst**: ``--updates`` seeded PENDING orders cancelled at once by concurrent
   ``cancelOrder`` mutations (a staff caller, as a support tool would), each an event that every
   subscriber (staff, watching every order) must receive. Delivery latency is the time from the
   change (the event's ``occurredAt``, written in the mutation's transaction) to its receipt by
   the client: the outbox, the broker, the fan-out, executing the subscription, the socket.
   Events delivered against expected, and per subscriber and order: versions in order, no
   duplicate.

The gateway runs with its default subscription limits except the two a thousand subscribers of
one staff caller need: connections per process and subscriptions per caller.

Exit status: 0 when every subscriber received every event in order, 1 otherwise, 2 when
PostgreSQL cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bench.database import DatabaseUnavailableError
from bench.run import AUDIENCE, Options, benchmark_gateway
from bench.scenarios import STAFF_SUBJECT, TOKEN_TTL_SECONDS
from bench.server import ServerStartError, cpu_seconds
from bench.wrk import CLIENT_CORE, pinned
from contract.scopes import Scope
from datasources.db import create_engine
from datasources.tables import OrderStatus, orders

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
#: Seeded orders per user; about 7 % of seeded orders are PENDING (``demo.seed``).
ORDERS_PER_USER = 10
#: How long the gateway's memory is left to settle before it is read.
SETTLE_SECONDS = 1.0
#: Mutations in flight at once: the gateway's default GATEWAY_MAX_CONCURRENT_OPERATIONS, so the
#: burst arrives as fast as the gateway takes it, and none is shed (503) from its queue while
#: the process is busy delivering the first events.
CANCEL_CONCURRENCY = 32

CANCEL = (
    "mutation Cancel($input: CancelOrderInput!) "
    "{ cancelOrder(input: $input) { order { id status } userErrors { code } } }"
)


@dataclass(frozen=True, slots=True)
class SubscriptionOptions:
    database_url: str
    redis_url: str | None
    subscribers: int
    updates: int
    quiet_seconds: float = 15.0


@dataclass(frozen=True, slots=True)
class SubscriptionReport:
    subscribers: int
    updates: int
    broker: str
    rss_mib: dict[str, float]
    rss_kib_per_idle_connection: float
    rss_kib_per_idle_subscription: float
    connect_seconds: float
    burst_seconds: float
    delivery: dict[str, Any]

    @property
    def all_delivered_in_order(self) -> bool:
        delivery = self.delivery
        return bool(
            delivery["delivered"] == delivery["expected"]
            and delivery["out_of_order"] == 0
            and delivery["duplicates"] == 0
            and delivery["errors"] == 0
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "subscribers": self.subscribers,
            "updates": self.updates,
            "broker": self.broker,
            "rss_mib": self.rss_mib,
            "rss_kib_per_idle_connection": self.rss_kib_per_idle_connection,
            "rss_kib_per_idle_subscription": self.rss_kib_per_idle_subscription,
            "connect_seconds": self.connect_seconds,
            "burst_seconds": self.burst_seconds,
            "delivery": self.delivery,
            "all_delivered_in_order": self.all_delivered_in_order,
        }


def _progress(message: str) -> None:
    print(f"[bench.subscriptions] {message}", file=sys.stderr, flush=True)


def rss_mib(pid: int) -> float:
    """The process's resident memory now (``VmRSS``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def active_subscriptions(client: httpx.AsyncClient) -> float:
    response = await client.get("/metrics")
    response.raise_for_status()
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "manifold_subscriptions_active"
    )


async def _until_active(client: httpx.AsyncClient, count: int, *, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    seen = 0.0
    while time.monotonic() < deadline:
        seen = await active_subscriptions(client)
        if seen >= count:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the gateway serves {seen:.0f} subscriptions, not {count}")


async def pending_orders(database_url: str, count: int) -> list[int]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(orders.c.id)
                    .where(orders.c.status == OrderStatus.PENDING)
                    .order_by(orders.c.id)
                    .limit(count)
                )
            ).all()
    finally:
        await engine.dispose()
    found = [row.id for row in rows]
    if len(found) < count:
        raise RuntimeError(f"only {len(found)} PENDING orders seeded, {count} needed")
    return found


def _global_id(order_id: int) -> str:
    return base64.b64encode(f"Order:{order_id}".encode()).decode()


#: Tries per mutation: one shed (503) or timed out (UPSTREAM_TIMEOUT) while the process is busy
#: delivering is sent again with its idempotency key, as a client would, so it runs once.
CANCEL_TRIES = 5


async def cancel_all(client: httpx.AsyncClient, token: str, order_ids: Sequence[int]) -> int:
    """Every order cancelled by concurrent mutations; fails unless each one was. Returns how many
    tries had to be repeated."""
    gate = asyncio.Semaphore(CANCEL_CONCURRENCY)
    retries = 0

    async def cancel(order_id: int) -> None:
        nonlocal retries
        variables = {
            "input": {"orderId": _global_id(order_id), "idempotencyKey": f"bench-{order_id}"}
        }
        for attempt in range(CANCEL_TRIES):
            async with gate:
                response = await client.post(
                    "/graphql",
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    json={"query": CANCEL, "variables": variables},
                )
            body = response.json()
            payload = (body.get("data") or {}).get("cancelOrder") or {}
            if (payload.get("order") or {}).get("status") == "CANCELLED":
                return
            codes = {
                (error.get("extensions") or {}).get("code") for error in body.get("errors", [])
            }
            if attempt + 1 == CANCEL_TRIES or not codes & {
                "UPSTREAM_TIMEOUT",
                "UPSTREAM_UNAVAILABLE",
            }:
                raise RuntimeError(
                    f"cancelOrder({order_id}) answered {response.status_code}: {body}"
                )
            retries += 1
            await asyncio.sleep(0.5)

    await asyncio.gather(*(cancel(order_id) for order_id in order_ids))
    return retries


class Subscribers:
    """The client process, spoken to one line at a time."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, ws_url: str, token: str, count: int, quiet: float) -> Subscribers:
        command = pinned(
            [
                sys.executable, "-m", "bench.subscribers", "--url", ws_url, "--token", token,
                "--connections", str(count), "--quiet-seconds", str(quiet),
            ],
            CLIENT_CORE,
        )  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        return cls(process)

    async def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            code = await self.process.wait()
            raise RuntimeError(f"the subscribers' process exited with status {code}")
        answer: dict[str, Any] = orjson.loads(line)
        return answer

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        return await self.answer()

    async def stop(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def run(options: SubscriptionOptions) -> SubscriptionReport:
    headroom = options.subscribers + 10
    settings = {
        "GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS": str(headroom),
        "GATEWAY_SUBSCRIPTION_MAX_PER_PRINCIPAL": str(headroom),
    }
    gateway_options = Options(
        database_url=options.database_url,
        redis_url=options.redis_url,
        users=max(20, options.updates * 2),
        orders_per_user=ORDERS_PER_USER,
        duration_seconds=1,
        warmup_seconds=0,
        concurrency=1,
        in_process=False,
    )
    async with benchmark_gateway(gateway_options, settings) as (server, issuer, _, gateway):
        token = issuer.mint(
            subject=STAFF_SUBJECT,
            scopes=[Scope.ORDERS_READ_ALL, Scope.ORDERS_WRITE],
            audience=AUDIENCE,
            ttl_seconds=TOKEN_TTL_SECONDS,
        )
        order_ids = await pending_orders(gateway["GATEWAY_DATABASE_URL"], options.updates)
        limits = httpx.Limits(max_connections=CANCEL_CONCURRENCY + 2)
        async with httpx.AsyncClient(
            base_url=server.base_url, trust_env=False, timeout=60, limits=limits
        ) as client:
            # One subscription opened and closed first: its code paths loaded and warm.
            await _warm_up(server.base_url, token, options.quiet_seconds)
            await asyncio.sleep(SETTLE_SECONDS)
            before = rss_mib(server.pid)
            _progress(f"opening {options.subscribers} WebSocket connections")
            subscribers = await Subscribers.start(
                server.base_url.replace("http", "ws", 1) + "/graphql",
                token,
                options.subscribers,
                options.quiet_seconds,
            )
            try:
                connected = await subscribers.answer()
                await asyncio.sleep(SETTLE_SECONDS)
                idle = rss_mib(server.pid)
                _progress("subscribing")
                await subscribers.ask("subscribe")
                await _until_active(client, options.subscribers)
                await asyncio.sleep(SETTLE_SECONDS)
                subscribed = rss_mib(server.pid)
                _progress(f"cancelling {options.updates} orders at once")
                started = time.perf_counter()
                cpu_before = cpu_seconds(server.pid)
                collecting = asyncio.ensure_future(subscribers.ask(f"collect {options.updates}"))
                try:
                    retried = await cancel_all(client, token, order_ids)
                except BaseException:
                    collecting.cancel()
                    raise
                burst = time.perf_counter() - started
                delivery = await collecting
                delivery["seconds"] = time.perf_counter() - started
                delivery["mutations_retried"] = retried
                cpu_after = cpu_seconds(server.pid)
                if cpu_before is not None and cpu_after is not None:
                    delivery["gateway_cpu_seconds"] = round(cpu_after - cpu_before, 3)
            finally:
                await subscribers.stop()
    count = options.subscribers
    return SubscriptionReport(
        subscribers=count,
        updates=options.updates,
        broker="redis" if options.redis_url else "memory (in-process)",
        rss_mib={"before": before, "connected": idle, "subscribed": subscribed},
        rss_kib_per_idle_connection=(idle - before) * 1024 / count,
        rss_kib_per_idle_subscription=(subscribed - idle) * 1024 / count,
        connect_seconds=float(connected["seconds"]),
        burst_seconds=burst,
        delivery=delivery,
    )


async def _warm_up(base_url: str, token: str, quiet: float) -> None:
    warm = await Subscribers.start(base_url.replace("http", "ws", 1) + "/graphql", token, 1, quiet)
    try:
        await warm.answer()
        await warm.ask("subscribe")
    finally:
        await warm.stop()


def render(report: SubscriptionReport) -> str:
    delivery = report.delivery
    latency = delivery["latency_ms"]
    verdict = "yes" if report.all_delivered_in_order else "NO"
    return "\n".join(
        [
            f"Subscriptions: {report.subscribers:,} WebSocket subscribers on one gateway process"
            f" ({report.broker} broker), a burst of {report.updates} order updates",
            f"  connected in {report.connect_seconds:.2f}s; burst of mutations answered in"
            f" {report.burst_seconds:.2f}s ({delivery['mutations_retried']} retried after a 503"
            " or a timeout, with their idempotency keys)",
            f"  events delivered / expected: {delivery['delivered']:,} /"
            f" {delivery['expected']:,}; every event, in order per order: {verdict}"
            f" (out of order {delivery['out_of_order']}, duplicates {delivery['duplicates']},"
            f" errors {delivery['errors']})",
            f"  delivered in {delivery['seconds']:.2f}s, the gateway busy"
            f" {delivery.get('gateway_cpu_seconds', float('nan')):.2f} CPU s and the clients"
            f" {delivery['client_cpu_seconds']:.2f} CPU s (their own core) in all",
            f"  delivery latency (change committed -> client received): p50"
            f" {latency['p50']:.1f} ms, p99 {latency['p99']:.1f} ms, max {latency['max']:.1f} ms",
            f"  RSS: {report.rss_mib['before']:.1f} MiB before, {report.rss_mib['connected']:.1f}"
            f" MiB with the idle connections, {report.rss_mib['subscribed']:.1f} MiB subscribed",
            f"  RSS per idle connection: {report.rss_kib_per_idle_connection:.1f} KiB;"
            f" per idle subscription on it: {report.rss_kib_per_idle_subscription:.1f} KiB more",
        ]
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parse_args(argv: Sequence[str] | None = None) -> tuple[SubscriptionOptions, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m bench.subscriptions",
        description="Subscribers on one gateway process: delivery of a burst, RSS per connection.",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("GATEWAY_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL server on which a scratch database is created and dropped",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("GATEWAY_BENCH_REDIS_URL"),
        help="Redis for the gateway's event broker; default $GATEWAY_BENCH_REDIS_URL, else"
        " the in-process broker",
    )
    parser.add_argument("--subscribers", type=_positive_int, default=1000)
    parser.add_argument("--updates", type=_positive_int, default=100)
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    options = SubscriptionOptions(
        database_url=args.database_url,
        redis_url=args.redis_url,
        subscribers=args.subscribers,
        updates=args.updates,
    )
    return options, args.json


def main(argv: Sequence[str] | None = None) -> int:
    options, json_path = parse_args(argv)
    try:
        report = asyncio.run(run(options))
    except DatabaseUnavailableError as error:
        print(f"bench.subscriptions: PostgreSQL is not usable: {error}", file=sys.stderr)
        return 2
    except ServerStartError as error:
        print(f"bench.subscriptions: a server did not start: {error}", file=sys.stderr)
        return 1
    print(render(report))
    if json_path is not None:
        json_path.write_bytes(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2))
    return 0 if report.all_delivered_in_order else 1


if __name__ == "__main__":
    sys.exit(main())
