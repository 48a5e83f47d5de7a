"""The two demo REST services the gateway calls, each in its own subprocess on a free port.

Started with the seeder's own numbers (users, orders per user, seed), so the content service's
authors are rows of the scratch database and the recommendations service learns from exactly
the purchases seeded there, as ``gateway demo`` arranges for its in-process services. They run
with no injected faults (``DEMO_*`` variables are not inherited) and stop after the gateway.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.server import RunningServer, free_port, gateway_environment, server_process


@dataclass(frozen=True, slots=True)
class Upstreams:
    content: RunningServer
    recommendations: RunningServer

    def gateway_settings(self) -> dict[str, str]:
        """The settings that point the gateway at these services."""
        return {
            "GATEWAY_CONTENT_URL": self.content.base_url,
            "GATEWAY_RECOMMENDATIONS_URL": self.recommendations.base_url,
        }


@asynccontextmanager
async def demo_upstreams(
    *, users: int, orders_per_user: int, seed: int, log_dir: Path
) -> AsyncIterator[Upstreams]:
    """Run ``python -m demo.content`` and ``demo.recommendations`` until the block exits."""
    env = gateway_environment({})
    content_port, recommendations_port = free_port(), free_port()
    content_command = [
        sys.executable, "-m", "demo.content",
        "--host", "127.0.0.1", "--port", str(content_port),
        "--users", str(users),
    ]  # fmt: skip
    recommendations_command = [
        sys.executable, "-m", "demo.recommendations",
        "--host", "127.0.0.1", "--port", str(recommendations_port),
        "--users", str(users), "--orders-per-user", str(orders_per_user), "--seed", str(seed),
    ]  # fmt: skip
    async with AsyncExitStack() as stack:
        content = await stack.enter_async_context(
            server_process(
                "content service",
                content_command,
                port=content_port,
                ready_path="/healthz",
                env=env,
                log_path=log_dir / "content.log",
            )
        )
        recommendations = await stack.enter_async_context(
            server_process(
                "recommendations service",
                recommendations_command,
                port=recommendations_port,
                ready_path="/healthz",
                env=env,
                log_path=log_dir / "recommendations.log",
            )
        )
        yield Upstreams(content=content, recommendations=recommendations)
