"""What makes an order valid, pure: line counts, quantities, products and prices."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contract.errors import BadUserInputError
from datasources.content import ContentKind
from resolvers.idempotency import chosen_key, key_scope
from resolvers.order_rules import (
    LineInput,
    check_currency,
    check_lines,
    check_reason,
    priced_lines,
    with_article,
)
from tests.resolvers.fakes import ALICE, content_record, partner, user


def product(content_id: int, price: str = "9.99", *, published: bool = True, currency: str = "EUR"):
    record = content_record(
        content_id, f"product-{content_id}", published=published, kind=ContentKind.PRODUCT
    )
    from dataclasses import replace  # noqa: PLC0415

    return replace(record, price=Decimal(price), currency=currency)


def field_of(error: BadUserInputError) -> list[object]:
    field: list[object] = error.extensions["field"]
    return field


def test_lines_are_priced_from_the_products_never_from_the_client():
    currency, lines = priced_lines(
        [LineInput(1, 2), LineInput(2, 1)], {1: product(1, "4.99"), 2: product(2, "10.00")}, None
    )

    assert currency == "EUR"
    assert [(line.content_id, line.quantity, line.unit_price) for line in lines] == [
        (1, 2, Decimal("4.99")),
        (2, 1, Decimal("10.00")),
    ]


@pytest.mark.parametrize(
    ("products", "message"),
    [
        ({}, "no purchasable product"),
        ({1: product(1, published=False)}, "no purchasable product"),
        ({1: content_record(1, "an-article")}, "lines\\[0\\].contentId: an article cannot"),
        (
            {1: content_record(1, "a-video", kind=ContentKind.VIDEO)},
            "lines\\[0\\].contentId: a video cannot",
        ),
    ],
    ids=["unknown", "draft", "article", "video"],
)
def test_a_line_that_is_not_a_published_product_names_itself(products, message):
    with pytest.raises(BadUserInputError, match=message) as refused:
        priced_lines([LineInput(1, 1)], products, None)

    assert field_of(refused.value) == ["input", "lines", 0, "contentId"]


@pytest.mark.parametrize(
    ("noun", "phrase"),
    [("article", "an article"), ("video", "a video"), ("Item", "an Item"), ("", "a ")],
)
def test_a_noun_takes_an_before_a_vowel_and_a_otherwise(noun, phrase):
    assert with_article(noun) == phrase


def test_products_in_two_currencies_cannot_share_an_order():
    with pytest.raises(BadUserInputError, match="different currencies"):
        priced_lines(
            [LineInput(1, 1), LineInput(2, 1)], {1: product(1), 2: product(2, currency="USD")}, None
        )


def test_an_expected_currency_must_be_the_prices_currency():
    with pytest.raises(BadUserInputError) as refused:
        priced_lines([LineInput(1, 1)], {1: product(1)}, "USD")

    assert field_of(refused.value) == ["input", "currency"]
    assert priced_lines([LineInput(1, 1)], {1: product(1)}, "EUR")[0] == "EUR"


@pytest.mark.parametrize("currency", ["eur", "EURO", "E1R", ""])
def test_a_currency_must_be_an_iso_code(currency):
    with pytest.raises(BadUserInputError):
        check_currency(currency)


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], ["input", "lines"]),
        ([LineInput(n, 1) for n in range(1, 52)], ["input", "lines"]),
        ([LineInput(1, 0)], ["input", "lines", 0, "quantity"]),
        ([LineInput(1, -5)], ["input", "lines", 0, "quantity"]),
        ([LineInput(1, 1), LineInput(2, 100)], ["input", "lines", 1, "quantity"]),
        ([LineInput(1, 1), LineInput(1, 2)], ["input", "lines", 1, "contentId"]),
    ],
    ids=["empty", "51-lines", "zero", "negative", "100", "repeated"],
)
def test_line_counts_and_quantities_are_bounded(lines, field):
    with pytest.raises(BadUserInputError) as refused:
        check_lines(lines)

    assert field_of(refused.value) == field


def test_fifty_lines_of_one_to_ninety_nine_are_fine():
    lines = [LineInput(n, 1 + n % 99) for n in range(1, 51)]

    assert check_lines(lines) == lines


def test_a_reason_is_trimmed_and_bounded():
    assert check_reason("  too slow  ") == "too slow"
    assert check_reason("   ") is None
    with pytest.raises(BadUserInputError):
        check_reason("x" * 501)


@pytest.mark.parametrize("reason", ["a\x00b", "line\nbreak", "bell\x07"])
def test_a_reason_with_control_characters_is_refused(reason):
    with pytest.raises(BadUserInputError) as refused:
        check_reason(reason)

    assert refused.value.extensions == {"field": ["input", "reason"]}


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"], ids=["U+2028", "U+2029"])
def test_a_reason_with_a_line_or_paragraph_separator_is_refused(separator):
    with pytest.raises(BadUserInputError, match="printable"):
        check_reason(f"too{separator}slow")


def test_a_reason_may_hold_any_kind_of_space():
    assert check_reason("too\u00a0slow\u3000really") == "too\u00a0slow\u3000really"


def test_one_key_from_the_header_or_the_input_or_both_when_equal():
    assert chosen_key("k", None) == "k"
    assert chosen_key(None, "k") == "k"
    assert chosen_key("k", "k") == "k"
    assert chosen_key(None, None) is None
    with pytest.raises(BadUserInputError, match="differ"):
        chosen_key("a", "b")


def test_keys_are_scoped_by_kind_and_subject():
    assert key_scope(user(ALICE)) == f"user:{ALICE.subject}"
    assert key_scope(partner()) == "partner:partnerkey01"
