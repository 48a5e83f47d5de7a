"""``resolvers.content``: published content is public; a draft the caller may not see reads
exactly like an id that does not exist."""

from __future__ import annotations

import pytest

from contract.errors import BadUserInputError
from contract.scopes import Scope
from datasources.content import CONTENT_CURSOR, MAX_CONTENT_ID, ContentKind, ContentPageKey
from datasources.pagination import encode_cursor
from datasources.users import USER_CURSOR
from resolvers.content import author_of, get_content, get_contents, list_contents
from tests.resolvers.fakes import (
    ALICE,
    ANONYMOUS,
    ARTICLE,
    BOB,
    DRAFT,
    VIDEO,
    FakeLoaders,
    content_record,
    partner,
    user,
)

EDITOR = user(BOB, Scope.CONTENT_READ)


@pytest.fixture
async def fake() -> FakeLoaders:
    return FakeLoaders()


# --- by id ---------------------------------------------------------------------------------------


async def test_published_content_is_visible_to_an_anonymous_caller(fake: FakeLoaders) -> None:
    content = await get_content(
        loaders=fake.loaders, principal=ANONYMOUS, content_id=ARTICLE.id, slug=None
    )

    assert content == ARTICLE


async def test_a_draft_reads_as_missing_without_content_read(fake: FakeLoaders) -> None:
    every_other_scope = [scope for scope in Scope if scope is not Scope.CONTENT_READ]

    content = await get_content(
        loaders=fake.loaders,
        principal=user(ALICE, *every_other_scope),
        content_id=DRAFT.id,
        slug=None,
    )

    assert content is None


async def test_a_draft_reads_like_an_id_that_does_not_exist(fake: FakeLoaders) -> None:
    contents = await get_contents(
        loaders=fake.loaders, principal=ANONYMOUS, content_ids=[DRAFT.id, 999]
    )

    assert contents == [None, None]


async def test_a_draft_is_visible_with_content_read(fake: FakeLoaders) -> None:
    content = await get_content(
        loaders=fake.loaders, principal=EDITOR, content_id=DRAFT.id, slug=None
    )

    assert content == DRAFT


async def test_a_partner_with_content_read_sees_drafts_too(fake: FakeLoaders) -> None:
    contents = await get_contents(
        loaders=fake.loaders, principal=partner(Scope.CONTENT_READ), content_ids=[DRAFT.id]
    )

    assert contents == [DRAFT]


async def test_get_contents_keeps_each_answer_at_its_position(fake: FakeLoaders) -> None:
    contents = await get_contents(
        loaders=fake.loaders, principal=ANONYMOUS, content_ids=[VIDEO.id, DRAFT.id, ARTICLE.id]
    )

    assert contents == [VIDEO, None, ARTICLE]
    assert fake.content_by_id.batches == [[VIDEO.id, DRAFT.id, ARTICLE.id]]


# --- by slug -------------------------------------------------------------------------------------


async def test_published_content_is_found_by_slug(fake: FakeLoaders) -> None:
    content = await get_content(
        loaders=fake.loaders, principal=ANONYMOUS, content_id=None, slug=ARTICLE.slug
    )

    assert content == ARTICLE
    assert fake.asked() == {"content_by_slug": [ARTICLE.slug]}


async def test_a_draft_found_by_slug_reads_as_missing_without_content_read(
    fake: FakeLoaders,
) -> None:
    content = await get_content(
        loaders=fake.loaders, principal=ANONYMOUS, content_id=None, slug=DRAFT.slug
    )

    assert content is None


async def test_a_draft_found_by_slug_is_visible_with_content_read(fake: FakeLoaders) -> None:
    content = await get_content(
        loaders=fake.loaders, principal=EDITOR, content_id=None, slug=DRAFT.slug
    )

    assert content == DRAFT


async def test_an_unknown_slug_reads_as_missing(fake: FakeLoaders) -> None:
    content = await get_content(
        loaders=fake.loaders, principal=EDITOR, content_id=None, slug="no-such-slug"
    )

    assert content is None


@pytest.mark.parametrize(
    "slug",
    ["", "has space", "-leading-dash", "slash/in/it", "x" * 201, "ünïcode"],
    ids=["empty", "space", "leading-dash", "slash", "too-long", "non-ascii"],
)
async def test_a_slug_that_cannot_exist_is_missing_without_any_load(
    fake: FakeLoaders, slug: str
) -> None:
    content = await get_content(loaders=fake.loaders, principal=EDITOR, content_id=None, slug=slug)

    assert content is None
    assert fake.asked() == {}


@pytest.mark.parametrize(
    ("content_id", "slug"), [(None, None), (ARTICLE.id, ARTICLE.slug)], ids=["neither", "both"]
)
async def test_get_content_needs_exactly_one_of_id_and_slug(
    fake: FakeLoaders, content_id: int | None, slug: str | None
) -> None:
    with pytest.raises(BadUserInputError):
        await get_content(loaders=fake.loaders, principal=EDITOR, content_id=content_id, slug=slug)

    assert fake.asked() == {}


# --- list_contents -------------------------------------------------------------------------------


async def test_list_contents_is_open_to_everyone_and_pages_from_the_start(
    fake: FakeLoaders,
) -> None:
    page = await list_contents(loaders=fake.loaders, first=None, after=None, kind=None, tag=None)

    assert fake.content_page.asked == [ContentPageKey(first=20)]
    assert list(page.items) == [ARTICLE, VIDEO]


async def test_list_contents_passes_kind_tag_and_decoded_cursor(fake: FakeLoaders) -> None:
    await list_contents(
        loaders=fake.loaders,
        first=5,
        after=encode_cursor(CONTENT_CURSOR, [ARTICLE.id]),
        kind=ContentKind.VIDEO,
        tag="howto",
    )

    assert fake.content_page.asked == [
        ContentPageKey(first=5, after=ARTICLE.id, kind=ContentKind.VIDEO, tag="howto")
    ]


@pytest.mark.parametrize("tag", ["a", "t" * 64], ids=["1-character", "64-characters"])
async def test_a_tag_of_1_to_64_characters_is_accepted(fake: FakeLoaders, tag: str) -> None:
    await list_contents(loaders=fake.loaders, first=None, after=None, kind=None, tag=tag)

    assert fake.content_page.asked == [ContentPageKey(first=20, tag=tag)]


@pytest.mark.parametrize("tag", ["", "t" * 65], ids=["empty", "65-characters"])
async def test_a_tag_outside_1_to_64_characters_is_bad_user_input(
    fake: FakeLoaders, tag: str
) -> None:
    with pytest.raises(BadUserInputError):
        await list_contents(loaders=fake.loaders, first=None, after=None, kind=None, tag=tag)

    assert fake.asked() == {}


@pytest.mark.parametrize(
    "cursor",
    [
        "###",
        encode_cursor(CONTENT_CURSOR, [MAX_CONTENT_ID + 1]),
        encode_cursor(CONTENT_CURSOR, [0]),
        encode_cursor(USER_CURSOR, [1]),
    ],
    ids=["garbage", "id-beyond-the-upstream-range", "id-zero", "a-user-cursor"],
)
async def test_a_malformed_content_cursor_is_bad_user_input(fake: FakeLoaders, cursor: str) -> None:
    with pytest.raises(BadUserInputError):
        await list_contents(loaders=fake.loaders, first=None, after=cursor, kind=None, tag=None)

    assert fake.asked() == {}


@pytest.mark.parametrize("first", [0, 101])
async def test_list_contents_refuses_first_outside_1_to_100(fake: FakeLoaders, first: int) -> None:
    with pytest.raises(BadUserInputError):
        await list_contents(loaders=fake.loaders, first=first, after=None, kind=None, tag=None)


# --- author_of -----------------------------------------------------------------------------------


async def test_content_without_an_author_id_has_no_author_and_loads_nothing(
    fake: FakeLoaders,
) -> None:
    assert VIDEO.author_id is None

    assert await author_of(loaders=fake.loaders, record=VIDEO) is None
    assert fake.asked() == {}


async def test_the_author_is_loaded_by_the_author_id(fake: FakeLoaders) -> None:
    assert await author_of(loaders=fake.loaders, record=ARTICLE) == ALICE
    assert fake.user_by_id.asked == [ALICE.id]


async def test_an_author_id_without_a_user_has_no_author(fake: FakeLoaders) -> None:
    record = content_record(50, "orphan", author_id=999)

    assert await author_of(loaders=fake.loaders, record=record) is None
