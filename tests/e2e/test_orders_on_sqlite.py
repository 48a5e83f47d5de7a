"""The embedded default places, pays and publishes orders too: SQLite, the in-process broker,
the development issuer; the demo services over HTTP."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from datasources.db import create_engine
from datasources.events import START
from datasources.migrate import upgrade_database
from datasources.tables import payments, users
from gateway.app import create_app
from gateway.settings import Settings
from tests.ordering import PLACE_ORDER, intent_object, line, signed_event

SECRET = "whsec-embedded-0123456789"


async def test_an_order_is_placed_paid_and_its_events_published_on_sqlite(
    tmp_path, content_service, payments_service
):
    settings = Settings(
        data_dir=tmp_path,
        content_url=content_service.base_url,
        payments_url=payments_service.base_url,
        payments_webhook_secret=SECRET,
    )
    await upgrade_database(settings.resolved_database_url)
    engine = create_engine(settings.resolved_database_url)
    async with engine.begin() as connection:
        await connection.execute(
            users.insert().values(subject="s-1", name="Embedded", email="e@x.test")
        )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        resources = app.state.resources
        token = resources.dev_issuer.mint(
            subject="s-1", scopes=["orders:write", "orders:read"], audience="manifold"
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            placed = await client.post(
                "/graphql",
                json={
                    "query": PLACE_ORDER,
                    "variables": {"input": {"lines": [line(3)], "idempotencyKey": "e1"}},
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            async with engine.connect() as connection:
                payment = (await connection.execute(select(payments))).one()
            body, headers = signed_event(
                "payment_intent.succeeded",
                intent_object(payment.intent_id, payment.order_id, int(payment.amount * 100)),
                secret=SECRET,
            )
            paid = await client.post("/webhooks/payments", content=body, headers=headers)
        for _ in range(100):  # published at once, by this process's publisher
            published = await resources.events.read(after=START)
            if len(published) == 3:
                break
            await asyncio.sleep(0.02)
    await engine.dispose()

    assert placed.json()["data"]["placeOrder"]["payment"]["status"] == "PROCESSING"
    assert paid.json() == {"received": True, "outcome": "applied"}
    assert [item.event.type for item in published] == [
        "ORDER_PLACED",
        "PAYMENT_PROCESSING",
        "ORDER_PAID",
    ]
    assert [item.event.version for item in published] == [1, 2, 3]
