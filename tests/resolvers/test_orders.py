"""``resolvers.orders``: a customer sees their own orders, staff see everyone's, and an order
the caller may not see reads exactly like one that does not exist."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contract.errors import AuthenticationError, BadUserInputError, ForbiddenError
from contract.scopes import Scope
from datasources.orders import OrderPageKey, order_cursor
from datasources.pagination import Page, encode_cursor
from datasources.tables import OrderStatus
from datasources.users import USER_CURSOR
from resolvers.orders import get_orders, line_subtotal, lines_of_order, list_orders, orders_of_user
from tests.resolvers.fakes import (
    ALICE,
    ALICE_FIRST_ORDER,
    ALICE_FIRST_ORDER_LINE,
    ALICE_SECOND_ORDER,
    ANONYMOUS,
    BOB,
    BOB_ORDER,
    CAROL,
    FakeLoaders,
    line_record,
    partner,
    user,
    user_without_row,
)

CUSTOMER = user(ALICE, Scope.ORDERS_READ)
STAFF = user(CAROL, Scope.ORDERS_READ_ALL)


@pytest.fixture
async def fake() -> FakeLoaders:
    return FakeLoaders()


# --- get_orders --------------------------------------------------------------------------------


async def test_a_customer_sees_their_own_orders(fake: FakeLoaders) -> None:
    orders = await get_orders(
        loaders=fake.loaders,
        principal=CUSTOMER,
        order_ids=[ALICE_FIRST_ORDER.id, ALICE_SECOND_ORDER.id],
    )

    assert orders == [ALICE_FIRST_ORDER, ALICE_SECOND_ORDER]


async def test_another_customers_order_reads_as_missing(fake: FakeLoaders) -> None:
    orders = await get_orders(loaders=fake.loaders, principal=CUSTOMER, order_ids=[BOB_ORDER.id])

    assert orders == [None]


async def test_a_foreign_order_is_blanked_at_its_own_position(fake: FakeLoaders) -> None:
    orders = await get_orders(
        loaders=fake.loaders,
        principal=CUSTOMER,
        order_ids=[ALICE_FIRST_ORDER.id, BOB_ORDER.id, ALICE_SECOND_ORDER.id],
    )

    assert orders == [ALICE_FIRST_ORDER, None, ALICE_SECOND_ORDER]


async def test_an_order_that_does_not_exist_reads_as_missing(fake: FakeLoaders) -> None:
    assert await get_orders(loaders=fake.loaders, principal=CUSTOMER, order_ids=[999]) == [None]


async def test_staff_with_orders_read_all_see_every_order(fake: FakeLoaders) -> None:
    orders = await get_orders(
        loaders=fake.loaders, principal=STAFF, order_ids=[ALICE_FIRST_ORDER.id, BOB_ORDER.id]
    )

    assert orders == [ALICE_FIRST_ORDER, BOB_ORDER]


async def test_staff_need_no_user_row_of_their_own_to_see_orders(fake: FakeLoaders) -> None:
    orders = await get_orders(
        loaders=fake.loaders, principal=partner(Scope.ORDERS_READ_ALL), order_ids=[BOB_ORDER.id]
    )

    assert orders == [BOB_ORDER]
    assert "user_by_subject" not in fake.asked()


async def test_a_partner_with_orders_read_sees_no_order(fake: FakeLoaders) -> None:
    orders = await get_orders(
        loaders=fake.loaders, principal=partner(Scope.ORDERS_READ), order_ids=[BOB_ORDER.id]
    )

    assert orders == [None]


async def test_a_user_without_a_row_sees_no_order(fake: FakeLoaders) -> None:
    orders = await get_orders(
        loaders=fake.loaders,
        principal=user_without_row(Scope.ORDERS_READ),
        order_ids=[ALICE_FIRST_ORDER.id],
    )

    assert orders == [None]


async def test_a_user_without_an_order_scope_is_forbidden_before_any_load(
    fake: FakeLoaders,
) -> None:
    with pytest.raises(ForbiddenError):
        await get_orders(
            loaders=fake.loaders, principal=user(ALICE, Scope.USERS_READ), order_ids=[1]
        )

    assert fake.asked() == {}


async def test_an_anonymous_caller_must_authenticate_to_read_orders(fake: FakeLoaders) -> None:
    with pytest.raises(AuthenticationError):
        await get_orders(loaders=fake.loaders, principal=ANONYMOUS, order_ids=[1])

    assert fake.asked() == {}


async def test_orders_asked_together_are_loaded_in_one_batch(fake: FakeLoaders) -> None:
    await get_orders(loaders=fake.loaders, principal=STAFF, order_ids=[101, 102, 201])

    assert fake.order_by_id.batches == [[101, 102, 201]]


# --- list_orders -------------------------------------------------------------------------------


async def test_a_customer_lists_their_own_orders(fake: FakeLoaders) -> None:
    page = await list_orders(
        loaders=fake.loaders, principal=CUSTOMER, first=None, after=None, status=None
    )

    assert fake.order_page.asked == [OrderPageKey(user_id=ALICE.id, first=20)]
    assert list(page.items) == [ALICE_SECOND_ORDER, ALICE_FIRST_ORDER]


async def test_staff_list_everyones_orders(fake: FakeLoaders) -> None:
    page = await list_orders(
        loaders=fake.loaders, principal=STAFF, first=None, after=None, status=None
    )

    assert fake.order_page.asked == [OrderPageKey(user_id=None, first=20)]
    assert {order.user_id for order in page.items} == {ALICE.id, BOB.id}


async def test_staff_who_also_hold_orders_read_still_list_everyones_orders(
    fake: FakeLoaders,
) -> None:
    principal = user(CAROL, Scope.ORDERS_READ, Scope.ORDERS_READ_ALL)

    await list_orders(loaders=fake.loaders, principal=principal, first=5, after=None, status=None)

    assert fake.order_page.asked == [OrderPageKey(user_id=None, first=5)]


async def test_a_partner_lists_an_empty_page_without_loading_one(fake: FakeLoaders) -> None:
    page = await list_orders(
        loaders=fake.loaders,
        principal=partner(Scope.ORDERS_READ),
        first=None,
        after=None,
        status=None,
    )

    assert page == Page.empty()
    assert fake.order_page.asked == []


async def test_a_user_without_a_row_lists_an_empty_page(fake: FakeLoaders) -> None:
    page = await list_orders(
        loaders=fake.loaders,
        principal=user_without_row(Scope.ORDERS_READ),
        first=None,
        after=None,
        status=None,
    )

    assert page == Page.empty()
    assert fake.order_page.asked == []


async def test_listing_orders_passes_the_status_and_the_decoded_cursor(
    fake: FakeLoaders,
) -> None:
    cursor = order_cursor(ALICE_SECOND_ORDER)

    await list_orders(
        loaders=fake.loaders,
        principal=CUSTOMER,
        first=1,
        after=cursor,
        status=OrderStatus.PAID,
    )

    assert fake.order_page.asked == [
        OrderPageKey(
            user_id=ALICE.id,
            first=1,
            after=(ALICE_SECOND_ORDER.placed_at, ALICE_SECOND_ORDER.id),
            status=OrderStatus.PAID,
        )
    ]


async def test_listing_orders_needs_an_order_scope(fake: FakeLoaders) -> None:
    with pytest.raises(ForbiddenError):
        await list_orders(
            loaders=fake.loaders, principal=user(ALICE), first=None, after=None, status=None
        )

    assert fake.asked() == {}


async def test_an_anonymous_caller_must_authenticate_to_list_orders(fake: FakeLoaders) -> None:
    with pytest.raises(AuthenticationError):
        await list_orders(
            loaders=fake.loaders, principal=ANONYMOUS, first=None, after=None, status=None
        )


@pytest.mark.parametrize("first", [0, -1, 101])
async def test_first_outside_1_to_100_is_bad_user_input(fake: FakeLoaders, first: int) -> None:
    with pytest.raises(BadUserInputError):
        await list_orders(
            loaders=fake.loaders, principal=CUSTOMER, first=first, after=None, status=None
        )

    assert fake.order_page.asked == []


@pytest.mark.parametrize("first", [1, 100])
async def test_first_of_1_or_100_is_accepted(fake: FakeLoaders, first: int) -> None:
    await list_orders(loaders=fake.loaders, principal=STAFF, first=first, after=None, status=None)

    assert fake.order_page.asked == [OrderPageKey(user_id=None, first=first)]


async def test_first_is_checked_even_for_a_caller_who_would_see_an_empty_page(
    fake: FakeLoaders,
) -> None:
    with pytest.raises(BadUserInputError):
        await list_orders(
            loaders=fake.loaders,
            principal=partner(Scope.ORDERS_READ),
            first=0,
            after=None,
            status=None,
        )


@pytest.mark.parametrize(
    "cursor",
    ["not a cursor", "", encode_cursor(USER_CURSOR, [1])],
    ids=["garbage", "empty", "a-user-cursor"],
)
async def test_a_malformed_or_foreign_order_cursor_is_bad_user_input(
    fake: FakeLoaders, cursor: str
) -> None:
    with pytest.raises(BadUserInputError):
        await list_orders(
            loaders=fake.loaders, principal=CUSTOMER, first=None, after=cursor, status=None
        )


# --- orders_of_user ----------------------------------------------------------------------------


async def test_a_customer_sees_their_own_orders_through_their_user(fake: FakeLoaders) -> None:
    page = await orders_of_user(
        loaders=fake.loaders,
        principal=CUSTOMER,
        user_id=ALICE.id,
        first=None,
        after=None,
        status=None,
    )

    assert fake.order_page.asked == [OrderPageKey(user_id=ALICE.id, first=20)]
    assert list(page.items) == [ALICE_SECOND_ORDER, ALICE_FIRST_ORDER]


async def test_another_customers_orders_look_empty(fake: FakeLoaders) -> None:
    page = await orders_of_user(
        loaders=fake.loaders,
        principal=CUSTOMER,
        user_id=BOB.id,
        first=None,
        after=None,
        status=None,
    )

    assert page == Page.empty()
    assert fake.order_page.asked == []


async def test_staff_see_any_customers_orders(fake: FakeLoaders) -> None:
    page = await orders_of_user(
        loaders=fake.loaders, principal=STAFF, user_id=BOB.id, first=None, after=None, status=None
    )

    assert fake.order_page.asked == [OrderPageKey(user_id=BOB.id, first=20)]
    assert list(page.items) == [BOB_ORDER]


async def test_orders_of_user_need_an_order_scope(fake: FakeLoaders) -> None:
    with pytest.raises(ForbiddenError):
        await orders_of_user(
            loaders=fake.loaders,
            principal=user(ALICE, Scope.USERS_READ),
            user_id=ALICE.id,
            first=None,
            after=None,
            status=None,
        )

    assert fake.asked() == {}


async def test_orders_of_user_check_first_even_when_they_would_look_empty(
    fake: FakeLoaders,
) -> None:
    with pytest.raises(BadUserInputError):
        await orders_of_user(
            loaders=fake.loaders,
            principal=CUSTOMER,
            user_id=BOB.id,
            first=101,
            after=None,
            status=None,
        )


# --- lines ---------------------------------------------------------------------------------------


async def test_the_lines_of_an_order_are_loaded_by_its_id(fake: FakeLoaders) -> None:
    lines = await lines_of_order(loaders=fake.loaders, order_id=ALICE_FIRST_ORDER.id)

    assert lines == [ALICE_FIRST_ORDER_LINE]
    assert fake.lines_by_order.asked == [ALICE_FIRST_ORDER.id]


async def test_an_order_without_lines_has_none(fake: FakeLoaders) -> None:
    assert await lines_of_order(loaders=fake.loaders, order_id=BOB_ORDER.id) == []


@pytest.mark.parametrize(
    ("quantity", "unit_price", "subtotal"),
    [(3, "2.50", "7.50"), (1, "19.99", "19.99"), (0, "5.00", "0.00")],
)
def test_line_subtotal_multiplies_unit_price_by_quantity(
    quantity: int, unit_price: str, subtotal: str
) -> None:
    line = line_record(1, 1, quantity=quantity, unit_price=unit_price)

    assert line_subtotal(line) == Decimal(subtotal)
