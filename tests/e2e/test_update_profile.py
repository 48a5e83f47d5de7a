"""Specifications of updateProfile: the caller's own name, nobody else's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from datasources.tables import users
from tests.factories import make_user
from tests.helpers import issue_key, key_header

UPDATE = """mutation($name: String!) { updateProfile(input: {name: $name}) { user { id name } } }"""


async def test_a_user_renames_themselves(gateway, connection):
    user = await make_user(connection, name="Ada")
    token = gateway.token(user.subject, "users:write")

    response = await gateway.execute(
        UPDATE,
        {"name": "  Ada Lovelace "},
        token=token,
    )

    assert response.errors == []
    assert response.data["updateProfile"]["user"]["name"] == "Ada Lovelace"
    stored = (await connection.execute(select(users.c.name).where(users.c.id == user.id))).one()
    assert stored.name == "Ada Lovelace"


async def test_later_fields_of_the_same_request_read_the_new_name(gateway, connection):
    user = await make_user(connection, name="Before")
    token = gateway.token(user.subject, "users:write")

    response = await gateway.execute(
        """mutation { first: updateProfile(input: {name: "After"}) { user { name } }
                      second: updateProfile(input: {name: "Last"}) { user { name } } }""",
        token=token,
    )

    assert response.data == {
        "first": {"user": {"name": "After"}},
        "second": {"user": {"name": "Last"}},
    }


async def test_other_users_are_untouched(gateway, connection):
    user = await make_user(connection, name="Me")
    other = await make_user(connection, name="Them")

    await gateway.execute(UPDATE, {"name": "New"}, token=gateway.token(user.subject, "users:write"))

    stored = (await connection.execute(select(users.c.name).where(users.c.id == other.id))).one()
    assert stored.name == "Them"


async def test_updating_a_profile_needs_users_write(gateway, connection):
    user = await make_user(connection, name="Me")

    response = await gateway.execute(
        UPDATE, {"name": "New"}, token=gateway.token(user.subject, "users:read")
    )

    assert response.codes == ["FORBIDDEN"]


async def test_a_partner_has_no_profile(gateway):
    key = await issue_key(gateway, "users:write")

    response = await gateway.execute(UPDATE, {"name": "New"}, headers=key_header(key))

    assert response.codes == ["FORBIDDEN"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "bad\nname"])
async def test_an_unusable_name_is_bad_user_input(gateway, connection, name):
    user = await make_user(connection, name="Me")

    response = await gateway.execute(
        UPDATE, {"name": name}, token=gateway.token(user.subject, "users:write")
    )

    assert response.codes == ["BAD_USER_INPUT"]
    assert response.errors[0]["extensions"]["field"] == ["input", "name"]
    stored = (await connection.execute(select(users.c.name).where(users.c.id == user.id))).one()
    assert stored.name == "Me"


async def test_a_name_holding_nul_is_refused_before_anything_executes(gateway, connection):
    user = await make_user(connection, name="Me")

    response = await gateway.execute(
        UPDATE, {"name": "nul\x00"}, token=gateway.token(user.subject, "users:write")
    )

    assert response.status == 400
    assert response.codes == ["BAD_USER_INPUT"]
    assert "data" not in response.body
    assert response.errors[0]["extensions"]["field"] == ["name"]  # the variable's path
    stored = (await connection.execute(select(users.c.name).where(users.c.id == user.id))).one()
    assert stored.name == "Me"
