"""User search finds exactly the users a plain Python filter finds, through the indexes, on SQLite and PostgreSQL.

The reference below is what search has always meant (part of the sign-in name, display name or
email, ignoring case), plus a conference ID typed as people type it ('123 456 7#'), whose digits are
a prefix of the user's live static ID or third-party ID. The rows are written and rewritten between
examples, so the SQLite search table's triggers are exercised as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update

from dialconf.domain.ids import format_for_callers
from dialconf.domain.roles import Actor
from dialconf.services import users
from dialconf.store.models import Bridge, ConferenceIdRow, Tenant, User
from dialconf.store.uow import UnitOfWork
from tests.conftest import make_uow
from tests.integration.builders import make_tenant, make_user

OPERATOR = Actor.operator()
# ASCII capitals only: SQLite's lower() folds ASCII alone, so 'É' and 'é' are different letters there
ALPHABET = "abcxyzABXZ0129 -_.%'\"éß"
TEXT = st.text(ALPHABET, min_size=1, max_size=12)
DIGITS = st.text("0123456789", min_size=7, max_size=7).filter(lambda d: d[0] != "0")


@dataclass(frozen=True)
class Row:
    tenant: str
    local: str
    name: str
    email_local: str
    static_id: str | None
    id_state: str
    id_kind: str
    acp_id: str | None


ROWS = st.lists(
    st.builds(
        Row,
        tenant=st.sampled_from(["contoso", "contoso", "fabrikam"]),
        local=st.text("abcxyz019.-_", min_size=1, max_size=8),
        name=TEXT,
        email_local=st.text("abcxyzAB019.-_%", min_size=1, max_size=8),
        static_id=st.none() | DIGITS,
        id_state=st.sampled_from(["live", "live", "quarantined"]),
        id_kind=st.sampled_from(["static", "static", "meeting"]),
        acp_id=st.none() | st.text("0123456789", min_size=4, max_size=9),
    ),
    max_size=20,
    unique_by=lambda row: row.static_id or object(),
)


def reference(search: str | None, row: Row, upn: str, email: str) -> bool:
    """The plain statement of what a search finds."""
    needle = (search or "").strip().lower()
    if not needle:
        return True
    if any(needle in value.lower() for value in (upn, row.name, email)):
        return True
    digits = "".join(c for c in search or "" if c not in " -.\t\n").removesuffix("#")
    if not (digits.isascii() and digits.isdigit()):
        return False
    live_static = row.static_id if (row.id_state, row.id_kind) == ("live", "static") else None
    return any(cid is not None and cid.startswith(digits) for cid in (live_static, row.acp_id))


def searches(rows: list[Row]) -> st.SearchStrategy[str]:
    """Texts people type: parts of what is stored (in any case), conference IDs as spoken, and noise."""
    stored = [r.local for r in rows] + [r.name for r in rows] + [r.email_local for r in rows]
    ids = [r.static_id for r in rows if r.static_id] + [r.acp_id for r in rows if r.acp_id]
    options: list[st.SearchStrategy[str]] = [TEXT, st.just(""), st.just("   ")]
    if stored:
        options.append(
            st.tuples(st.sampled_from(stored), st.integers(0, 8), st.integers(1, 9), st.booleans()).map(
                lambda t: t[0][t[1] : t[1] + t[2]].upper() if t[3] else t[0][t[1] : t[1] + t[2]]
            )
        )
    if ids:
        options.append(st.sampled_from(ids).map(format_for_callers))
        options.append(st.tuples(st.sampled_from(ids), st.integers(1, 7)).map(lambda t: t[0][: t[1]] + "#"))
    return st.one_of(options).filter(bool)


class World:
    """Two tenants, and the generated users of each example written straight into the tables."""

    def __init__(self, url: str) -> None:
        self.uow = make_uow(url)
        make_tenant(make_uow(url), "contoso")
        make_tenant(make_uow(url), "fabrikam", number="+14255550111", toll_free=None)
        with self.uow:
            self.tenant_ids = dict(self.uow.session.execute(select(Tenant.name, Tenant.id)).all())
            self.bridge_ids = dict(self.uow.session.execute(select(Bridge.tenant_id, Bridge.id)).all())
        # one user made the ordinary way: its ID row and search row come from the services
        self.ada = make_user(make_uow(url), "ada@contoso.com")

    def replace_rows(self, rows: list[Row]) -> list[tuple[Row, str, str]]:
        """Delete the previous example's users, insert these (under another name first, then renamed)."""
        written = []
        with self.uow:
            session, now = self.uow.session, self.uow.now()
            session.execute(
                delete(ConferenceIdRow).where(
                    ConferenceIdRow.owner_user_id.is_not(None), ConferenceIdRow.chosen
                )
            )
            session.execute(delete(User).where(User.upn != "ada@contoso.com"))
            for i, row in enumerate(rows):
                tenant_id = self.tenant_ids[row.tenant]
                upn = f"{row.local}{i}@{row.tenant}.com"
                email = f"{row.email_local}@Mail.{row.tenant}.com"
                values: dict[str, Any] = {
                    "tenant_id": tenant_id,
                    "bridge_id": self.bridge_ids[tenant_id],
                    "upn": upn,
                    "display_name": "someone else",
                    "email": email,
                    "provider": "builtin" if row.acp_id is None else "third-party",
                    "acp_conference_id": row.acp_id,
                    "created_at": now,
                    "updated_at": now,
                }
                user_id = session.execute(insert(User).values(values).returning(User.id)).scalar_one()
                session.execute(update(User).where(User.id == user_id).values(display_name=row.name))
                if row.static_id is not None:
                    session.execute(
                        insert(ConferenceIdRow).values(
                            bridge_id=self.bridge_ids[tenant_id],
                            digits=row.static_id,
                            state=row.id_state,
                            kind=row.id_kind,
                            chosen=True,  # marks the rows this test writes, to delete them next time
                            owner_user_id=user_id,
                            created_at=now,
                        )
                    )
                written.append((row, upn, email))
            self.uow.commit()
        return written

    def expected(self, search: str | None, written: list[tuple[Row, str, str]]) -> list[str]:
        found = [
            upn
            for row, upn, email in written
            if row.tenant == "contoso" and reference(search, row, upn, email)
        ]
        ada = Row(
            "contoso", "ada", self.ada.display_name, "ada", self.ada.conference_id, "live", "static", None
        )
        if reference(search, ada, self.ada.upn, self.ada.email):
            found.append(self.ada.upn)
        return sorted(found)


@pytest.fixture
def world(database_url: str) -> World:
    return World(database_url)


def _search(uow: UnitOfWork, search: str, **kwargs: Any) -> list[str]:
    page = users.list_users(uow, tenant="contoso", actor=OPERATOR, search=search, limit=1000, **kwargs)
    assert page.total == len(page.items)
    return [view.upn for view in page]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), rows=ROWS)
def test_search_finds_the_same_users_as_a_plain_filter_in_sign_in_name_order(
    world: World, data: st.DataObject, rows: list[Row]
) -> None:
    written = world.replace_rows(rows)
    search = data.draw(searches(rows), label="search")
    expected = world.expected(search, written)

    assert _search(world.uow, search) == expected
    # the same users through keyset pages of two, each page saying where it starts
    paged: list[str] = []
    while True:
        page = users.list_users(
            world.uow,
            tenant="contoso",
            actor=OPERATOR,
            search=search,
            limit=2,
            after=paged[-1] if paged else None,
        )
        assert page.total == len(expected) and page.offset == len(paged)
        paged.extend(view.upn for view in page)
        if not page.truncated:
            break
    assert paged == expected
    # a page past the end is empty and still counts every match
    beyond = users.list_users(
        world.uow, tenant="contoso", actor=OPERATOR, search=search, offset=len(expected) + 1
    )
    assert (beyond.items, beyond.total) == ([], len(expected))
    # and in the batches of `user list --all`
    batches = users.iter_users(world.uow, tenant="contoso", actor=OPERATOR, search=search, batch=3)
    assert [view.upn for batch in batches for view in batch] == expected


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), rows=ROWS)
def test_a_capped_count_and_the_nearby_walk_page_through_the_same_users_and_never_overstate(
    world: World, data: st.DataObject, rows: list[Row]
) -> None:
    """With counts stopped at a small cap and a short walk (so every way of finding a page is taken),
    the pages hold the same users, and a count is exact or says that more match than it gives."""
    written = world.replace_rows(rows)
    search = data.draw(searches(rows) | st.just(""), label="search")
    expected = world.expected(search or None, written)
    cap = data.draw(st.integers(0, 4), label="count_cap")
    nearby = data.draw(st.integers(1, 4), label="nearby")
    limit = data.draw(st.integers(1, 3), label="limit")
    options: dict[str, Any] = {"search": search or None, "count_cap": cap, "nearby": nearby, "limit": limit}

    paged: list[str] = []
    while True:
        after = paged[-1] if paged else None
        page = users.list_users(world.uow, tenant="contoso", actor=OPERATOR, after=after, **options)
        if page.total_capped:
            assert page.total < len(expected)
        else:
            assert page.total == len(expected)
        if page.offset_capped:
            assert page.offset <= len(paged) and page.total_capped
        else:
            assert page.offset == len(paged)
        paged.extend(view.upn for view in page)
        if not page.truncated:
            break
    assert paged == expected

    offset = data.draw(st.integers(0, len(expected) + 1), label="offset")
    page = users.list_users(world.uow, tenant="contoso", actor=OPERATOR, offset=offset, **options)
    assert [view.upn for view in page] == expected[offset : offset + limit]
    assert page.truncated == (offset + limit < len(expected))
    assert page.total < len(expected) if page.total_capped else page.total == len(expected)

    # `user list --all`: past `walk_over` matches the batches walk the names in order
    batches = users.iter_users(
        world.uow, tenant="contoso", actor=OPERATOR, search=search or None, batch=limit, walk_over=cap
    )
    assert [view.upn for batch in batches for view in batch] == expected


def test_a_conference_id_typed_with_spaces_and_hash_finds_its_owner(world: World) -> None:
    assert world.ada.conference_id is not None
    typed = format_for_callers(world.ada.conference_id)  # '123 456 7#'
    assert " " in typed and typed.endswith("#")
    assert _search(world.uow, typed) == ["ada@contoso.com"]
    assert _search(world.uow, world.ada.conference_id[:4]) == ["ada@contoso.com"]


def test_a_renamed_user_is_found_by_the_new_name_and_no_longer_by_the_old(world: World) -> None:
    with world.uow:
        world.uow.session.execute(
            update(User).where(User.upn == "ada@contoso.com").values(display_name="Lovelace")
        )
        world.uow.commit()
    assert _search(world.uow, "lovel") == ["ada@contoso.com"]
    assert _search(world.uow, "Ada@") == ["ada@contoso.com"]  # still by sign-in name
    with world.uow:
        world.uow.session.execute(
            update(User).where(User.upn == "ada@contoso.com").values(display_name="Byron")
        )
        world.uow.commit()
    assert _search(world.uow, "lovel") == []


def test_percent_and_underscore_in_a_search_are_plain_characters(world: World) -> None:
    world.replace_rows(
        [
            Row("contoso", "a_b", "50% off", "x", None, "live", "static", None),
            Row("contoso", "axb", "500 off", "y", None, "live", "static", None),
        ]
    )
    assert _search(world.uow, "a_b") == ["a_b0@contoso.com"]
    assert _search(world.uow, "0% o") == ["a_b0@contoso.com"]


def test_another_tenants_users_are_never_found(world: World) -> None:
    world.replace_rows([Row("fabrikam", "ada", "Ada", "ada", "7654321", "live", "static", "987654")])
    assert _search(world.uow, "ada") == ["ada@contoso.com"]
    assert _search(world.uow, "765 432 1#") == []
    assert _search(world.uow, "9876") == []


def test_enabled_keeps_only_enabled_or_disabled_users_and_pages_after_a_name(world: World) -> None:
    world.replace_rows([Row("contoso", "zed", "Zed", "zed", None, "live", "static", None)])
    with world.uow:
        world.uow.session.execute(update(User).where(User.upn == "zed0@contoso.com").values(enabled=False))
        world.uow.commit()
    only = users.list_users(world.uow, tenant="contoso", actor=OPERATOR, enabled=False)
    assert [view.upn for view in only] == ["zed0@contoso.com"]
    after = users.list_users(
        world.uow, tenant="contoso", actor=OPERATOR, enabled=True, after="ada@contoso.com"
    )
    assert (after.items, after.total, after.offset) == ([], 1, 1)
