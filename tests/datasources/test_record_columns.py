"""Records are built from rows by position (reading a row by name costs more than the record),
so each statement selects exactly its record's fields, in the record's order."""

from __future__ import annotations

from typing import Any

from datasources import orders, users
from datasources.orders import OrderLineRecord, OrderRecord
from datasources.users import UserRecord


def names(record_type: Any) -> list[str]:
    return list(record_type._fields)


def test_order_columns_are_the_order_records_fields_in_order():
    assert [column.name for column in orders.ORDER_COLUMNS] == names(OrderRecord)


def test_line_columns_are_the_line_records_fields_in_order():
    statement = orders._lines("postgresql")
    assert [column.name for column in statement.selected_columns] == names(OrderLineRecord)


def test_user_columns_are_the_user_records_fields_in_order():
    assert [column.name for column in users._COLUMNS] == names(UserRecord)
