"""``/graphql`` over WebSocket, the ``graphql-transport-ws`` protocol.

Our own implementation rather than Strawberry's: every ``subscribe`` must go through the one
operation pipeline (persisted-only, token and shape limits, introspection by scope, cost charged
at subscribe), the credential is checked by the same ``Authenticator`` as HTTP, and the
connection owns limits Strawberry's handler has no place for (message rate, subscriptions per
caller, slow consumers, token expiry, drain).

A connection's life:

1. **Handshake**: a browser's ``Origin`` must be allowed (else HTTP 403, never upgraded); the
   client must offer ``graphql-transport-ws`` (else 4406); a process at its maximum closes with
   1013, a draining one with 1001.
2. **connection_init** within ``GATEWAY_WEBSOCKET_INIT_TIMEOUT_SECONDS`` (else 4408), once
   (else 4429). Its payload's ``Authorization`` / ``X-API-Key`` (or the upgrade's headers) are
   checked; a bad credential closes with 4403 before anything runs, one that cannot be checked
   now with 1013. Then ``connection_ack``.
3. **subscribe** / **complete**, each subscription a task; ``ping`` answered with ``pong``; a
   ``ping`` sent every ``GATEWAY_SUBSCRIPTION_KEEPALIVE_SECONDS``.
4. **End**: the client closes; or the gateway does, with the codes in docs/subscriptions.md.

No frame, however malformed, raises out of here: protocol violations close with their code,
and anything unexpected is logged and closes with 4500.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from contract.errors import AuthenticationError, ErrorCode, UpstreamError
from datasources.event_fanout import FeedInterrupted, FeedStopped, SlowConsumer
from datasources.resilience import Deadline
from gateway.http.protocol import operation_from
from gateway.observability.record import note_principal
from gateway.operations.pipeline import Outcome
from gateway.operations.refusal import Refused
from gateway.operations.request import OperationCall, Transport
from gateway.operations.subscription import open_subscription
from gateway.subscriptions import protocol
from gateway.subscriptions.caller import Ending
from gateway.subscriptions.credentials import credential_headers
from gateway.subscriptions.limits import TokenBucket, principal_key
from gateway.subscriptions.protocol import CloseCode, ProtocolViolation
from gateway.subscriptions.service import SubscriptionService
from schema.masking import MASKED_MESSAGE

logger = logging.getLogger("manifold.subscriptions")

TRANSPORT = "websocket"
#: How long closing a connection waits for its tasks to unwind after cancelling them.
CANCEL_WAIT_SECONDS = 2.0


async def websocket_endpoint(websocket: WebSocket) -> None:
    service: SubscriptionService = websocket.app.state.subscriptions
    if not service.origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host")):
        service.metrics.closed.labels(reason="origin").inc()
        await websocket.close(code=CloseCode.POLICY_VIOLATION)  # before accept: HTTP 403
        return
    offered = websocket.scope.get("subprotocols") or []
    if protocol.SUBPROTOCOL not in offered:
        await websocket.accept()
        await _close(
            websocket, service, CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable"
        )
        return
    await websocket.accept(subprotocol=protocol.SUBPROTOCOL)
    if service.draining:
        await _close(websocket, service, CloseCode.GOING_AWAY, "going away")
        return
    if not service.occupancy.open_connection():
        await _close(websocket, service, CloseCode.TRY_AGAIN_LATER, "too many connections")
        return
    connection = Connection(websocket, service)
    service.connections.add(connection)
    service.metrics.connections.labels(transport=TRANSPORT).inc()
    try:
        await connection.run()
    finally:
        service.connections.discard(connection)
        service.occupancy.close_connection()
        service.metrics.connections.labels(transport=TRANSPORT).dec()


async def _close(
    websocket: WebSocket, service: SubscriptionService, code: int, reason: str
) -> None:
    service.metrics.closed.labels(reason=_reason_label(code)).inc()
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason)


def _reason_label(code: int) -> str:
    try:
        return CloseCode(code).name.lower()
    except ValueError:
        return "other"


class Connection:
    """One graphql-transport-ws connection: its reader, its subscriptions and its timers."""

    def __init__(self, websocket: WebSocket, service: SubscriptionService) -> None:
        self.websocket = websocket
        self.service = service
        self.settings = service.settings
        self.caller = service.caller()
        self.acknowledged = False
        self.init_received = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.draining = False
        self._closing: tuple[int, str] | None = None
        self._closed = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._bucket = TokenBucket(
            self.settings.websocket_messages_per_second, self.settings.websocket_message_burst
        )
        state = websocket.scope.get("state") or {}
        self.request_id: str = state.get("request_id", "")
        client = websocket.client
        self.client_ip = client.host if client else None

    # --- the connection's life ------------------------------------------------------------

    async def run(self) -> None:
        self._spawn(self._read())
        self._spawn(self._init_timeout())
        self._spawn(self._keepalive())
        try:
            await self._closed.wait()
        finally:
            tasks = [*self._tasks, *self.operations.values()]
            for task in tasks:
                task.cancel()
            if tasks:
                # Bounded: a task cancelled in the middle of a database call may take a moment
                # to unwind, and the socket's close must not wait on it.
                await asyncio.wait(tasks, timeout=CANCEL_WAIT_SECONDS)
            code, reason = self._closing or (CloseCode.NORMAL, "")
            if self.websocket.application_state is WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await self.websocket.close(code=code, reason=reason)

    def close(self, code: int, reason: str) -> None:
        """End the connection with ``code`` (the first reason given wins)."""
        if self._closing is None:
            self._closing = (code, reason)
            if code != CloseCode.NORMAL:
                self.service.metrics.closed.labels(reason=_reason_label(code)).inc()
        self._closed.set()

    async def drain(self) -> None:
        """The replica is going away: let every subscription send what its feed still holds
        (the service stopped the feeds), then close with 1001 so the client reconnects."""
        self.draining = True
        running = list(self.operations.values())
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        self.close(CloseCode.GOING_AWAY, "going away")

    def _spawn(self, job: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(self._guarded(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, job: Any) -> None:
        try:
            await job
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception(
                "unexpected failure on a WebSocket connection",
                extra={"request_id": self.request_id},
            )
            self.close(CloseCode.INTERNAL_SERVER_ERROR, "Internal server error")

    async def send(self, message: bytes) -> None:
        """Write one message; a client that does not read within the send timeout is a slow
        consumer and is disconnected."""
        try:
            async with (
                self._send_lock,
                asyncio.timeout(self.settings.subscription_send_timeout_seconds),
            ):
                await self.websocket.send_text(message.decode())
        except TimeoutError:
            self.close(CloseCode.POLICY_VIOLATION, "slow consumer")
            raise asyncio.CancelledError from None
        except Exception:  # the client went away mid-write
            self._closed.set()
            raise asyncio.CancelledError from None

    # --- reading ---------------------------------------------------------------------------

    async def _read(self) -> None:
        limit = self.settings.websocket_max_message_bytes
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self._closed.set()
                return
            text = message.get("text")
            if text is None:
                self.close(CloseCode.BAD_REQUEST, "Invalid message received: binary frame")
                return
            if len(text) > limit:
                self.close(CloseCode.MESSAGE_TOO_BIG, f"message larger than {limit} bytes")
                return
            if not self._bucket.take():
                self.close(CloseCode.TOO_MANY_REQUESTS, "Too many messages")
                return
            try:
                parsed = protocol.parse(text)
            except ProtocolViolation as violation:
                self.close(violation.code, violation.reason)
                return
            await self._handle(parsed)
            if self._closing is not None:
                return

    async def _handle(self, message: protocol.ClientMessage) -> None:
        if isinstance(message, protocol.ConnectionInit):
            await self._connection_init(message)
        elif isinstance(message, protocol.Ping):
            await self.send(protocol.pong(message.payload))
        elif isinstance(message, protocol.Pong):
            return
        elif isinstance(message, protocol.Subscribe):
            self._subscribe(message)
        else:
            task = self.operations.pop(message.id, None)
            if task is not None:
                task.cancel()

    async def _connection_init(self, message: protocol.ConnectionInit) -> None:
        if self.init_received:
            self.close(CloseCode.TOO_MANY_REQUESTS, "Too many initialisation requests")
            return
        self.init_received = True
        try:
            headers = credential_headers(self.websocket.headers, message.payload)
            principal = await self.caller.authenticate(headers, self.websocket.query_params)
        except AuthenticationError as error:
            self.close(CloseCode.FORBIDDEN, f"Forbidden: {error.message}"[:120])
            return
        except UpstreamError:
            self.close(CloseCode.TRY_AGAIN_LATER, "credentials cannot be checked now")
            return
        note_principal(principal.kind.value)
        self.acknowledged = True
        await self.send(protocol.ack())
        self._spawn(self._watch_credential())

    def _subscribe(self, message: protocol.Subscribe) -> None:
        if not self.acknowledged:
            self.close(CloseCode.UNAUTHORIZED, "Unauthorized")
            return
        if message.id in self.operations:
            self.close(
                CloseCode.SUBSCRIBER_ALREADY_EXISTS, f"Subscriber for {message.id} already exists"
            )
            return
        if self.draining:
            return  # the close (1001) is on its way; the client resubscribes elsewhere
        if len(self.operations) >= self.settings.subscription_max_per_connection:
            self._refuse_later(
                message.id,
                f"At most {self.settings.subscription_max_per_connection} subscriptions may run "
                "on one connection.",
            )
            return
        key = principal_key(self.caller.principal, self.client_ip)
        if not self.service.occupancy.add_subscription(key):
            self._refuse_later(
                message.id,
                f"At most {self.settings.subscription_max_per_principal} subscriptions may run "
                "at once for one caller.",
            )
            return
        task = asyncio.ensure_future(self._operation(message, key))
        self.operations[message.id] = task

    def _refuse_later(self, operation_id: str, text: str) -> None:
        refusal = Refused.because(429, ErrorCode.RATE_LIMITED, text)
        self._spawn(self.send(protocol.error_message(operation_id, refusal.payload()["errors"])))

    # --- one operation ---------------------------------------------------------------------

    async def _operation(self, message: protocol.Subscribe, key: str) -> None:
        service = self.service
        service.metrics.active.labels(transport=TRANSPORT).inc()
        completed = True
        try:
            completed = await self._serve(message)
        except asyncio.CancelledError:
            completed = False  # the client completed it, or the connection is closing
            raise
        except SlowConsumer:
            completed = False
            self.close(CloseCode.POLICY_VIOLATION, "slow consumer")
        except Exception:
            logger.exception(
                "unexpected failure serving a subscription", extra={"request_id": self.request_id}
            )
            body = Refused.because(500, ErrorCode.INTERNAL_SERVER_ERROR, MASKED_MESSAGE).payload()
            body["errors"][0]["extensions"]["requestId"] = self.request_id
            with contextlib.suppress(asyncio.CancelledError):
                await self.send(protocol.error_message(message.id, body["errors"]))
            completed = False
        finally:
            service.metrics.active.labels(transport=TRANSPORT).dec()
            service.occupancy.remove_subscription(key)
            if self.operations.get(message.id) is asyncio.current_task():
                del self.operations[message.id]
        if completed:
            with contextlib.suppress(asyncio.CancelledError):
                await self.send(protocol.complete_message(message.id))

    async def _serve(self, message: protocol.Subscribe) -> bool:
        """Run one operation; whether to send ``complete`` after it."""
        operation_id = message.id
        try:
            request = operation_from(message.payload)
            call = OperationCall(
                operation=request,
                transport=Transport.WEBSOCKET,
                principal=self.caller.current,
                deadline=Deadline(self.settings.request_timeout_seconds),
                request_id=self.request_id,
                client_ip=self.client_ip,
            )
            prepared = await self.service.pipeline.prepare(call)
            if isinstance(prepared, Outcome):
                await self.send(protocol.next_message(operation_id, prepared.payload))
                return True
            stream = await open_subscription(
                self.service.pipeline,
                prepared,
                event_timeout_seconds=self.settings.request_timeout_seconds,
            )
        except Refused as refused:
            await self.send(protocol.error_message(operation_id, refused.payload()["errors"]))
            return False
        if isinstance(stream, Outcome):
            await self.send(protocol.next_message(operation_id, stream.payload))
            return True
        delivered = self.service.metrics.delivered.labels(transport=TRANSPORT)
        try:
            async for outcome in stream:
                await self.send(protocol.next_message(operation_id, outcome.payload))
                delivered.inc()
        except FeedInterrupted:
            told = Refused.because(
                503,
                ErrorCode.UPSTREAM_UNAVAILABLE,
                "Order events are unavailable for now; subscribe again.",
            ).payload()
            await self.send(protocol.next_message(operation_id, told))
            return True
        except FeedStopped:
            return not self.draining
        finally:
            await stream.aclose()
        return not self.draining

    # --- timers ----------------------------------------------------------------------------

    async def _init_timeout(self) -> None:
        await asyncio.sleep(self.settings.websocket_init_timeout_seconds)
        if not self.acknowledged and self._closing is None:
            self.close(
                CloseCode.CONNECTION_INITIALISATION_TIMEOUT, "Connection initialisation timeout"
            )

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.settings.subscription_keepalive_seconds)
            await self.send(protocol.ping())

    async def _watch_credential(self) -> None:
        ended = await self.caller.watch()
        if ended.why is Ending.EXPIRED:
            self.close(CloseCode.UNAUTHORIZED, "Unauthorized: token expired")
        else:
            self.close(CloseCode.FORBIDDEN, f"Forbidden: {ended.message}"[:120])
