"""User search: which users a typed text finds, as one SQL condition that the search indexes can serve.

A search text finds a user when, ignoring case, it is part of the sign-in name, the display name or
the email address (so a name prefix, a sign-in name prefix or fragment and an email fragment are all
the same query), or, when the text is a conference ID as people type it ('123 456 7#'), when the
user's conference ID starts with its digits. `%` and `_` are plain characters, not wildcards.

How each database answers it without reading every user (docs/search.md has the figures):
- text of 3 characters or more: SQLite asks the FTS5 trigram table `users_search` (kept in step with
  `users` by triggers, migration 0004) for candidates, then checks them with the exact condition;
  PostgreSQL answers the same LIKE conditions from pg_trgm GIN indexes on the three columns.
  Shorter text cannot be split into trigrams and is compared against every user of the tenant.
- conference IDs: a range on the unique (bridge_id, digits) index of `conference_ids` for live
  static IDs, and on the acp_conference_id index for the IDs typed for third-party users.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
    and_,
    any_,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    union,
)

from dialconf.domain.ids import clean_digits
from dialconf.store.models import Bridge, ConferenceIdRow, User

# the FTS5 trigram tokenizer indexes runs of three characters: a shorter text has no trigram to look up
TRIGRAM = 3

_FTS_TABLE = table("users_search")
_FTS_ROWID: ColumnElement[int] = literal_column("users_search.rowid")


def search_needle(search: str | None) -> str:
    """The text a search compares, lower case; empty when there is nothing to search for."""
    return (search or "").strip().lower()


def conference_id_digits(search: str | None) -> str | None:
    """The digits of a search that is a conference ID as typed ('123 456 7#' -> '1234567'), else None."""
    digits = clean_digits(search or "")
    return digits if digits and digits.isascii() and digits.isdigit() else None


def _like_pattern(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(needle: str) -> str:
    """An FTS5 query that is the needle as one phrase: with the trigram tokenizer, a substring match."""
    return '"' + needle.replace('"', '""') + '"'


def text_condition(
    needle: str, *, unindexed: bool = False, dialect: str | None = None
) -> ColumnElement[bool]:
    """The exact text match, the same on every database (and what the PostgreSQL GIN indexes serve).

    `unindexed` writes each column as `column || ''`, the same value, which no trigram index serves:
    for a walk through the users in sign-in name order, where PostgreSQL's planner would otherwise
    prefer its trigram indexes and read every match. On SQLite ("sqlite" `dialect`) the columns are
    compared as they are: its LIKE ignores ASCII case and its lower() folds nothing else, so lower()
    would only cost time (two thirds of a walk through every user).
    """
    pattern = _like_pattern(needle)
    columns: list[Any] = [User.upn, User.display_name, User.email]
    if dialect == "sqlite":
        return or_(*(column.like(pattern, escape="\\") for column in columns))
    if unindexed:
        columns = [column.concat("") for column in columns]
    upn, name, email = columns
    return or_(
        upn.like(pattern, escape="\\"),
        func.lower(name).like(pattern, escape="\\"),
        func.lower(email).like(pattern, escape="\\"),
    )


def _fts_match(needle: str) -> TextClause:
    """The search table's rows whose sign-in name, display name or email holds the needle (folded case)."""
    return text("users_search MATCH :users_search_phrase").bindparams(users_search_phrase=_fts_phrase(needle))


def _trigram_candidates(needle: str) -> Select[Any]:
    """Row ids of the users whose sign-in name, display name or email holds the needle (folded case)."""
    return select(_FTS_ROWID).select_from(_FTS_TABLE).where(_fts_match(needle))


def _conference_id_candidates(digits: str) -> list[Select[Any]]:
    # a prefix as a range: digits >= '123' AND digits < '123:' (':' sorts right after '9')
    upper = digits + ":"
    static = select(ConferenceIdRow.owner_user_id).where(
        # every bridge is listed so that the (bridge_id, digits) unique index serves the range
        ConferenceIdRow.bridge_id.in_(select(Bridge.id)),
        ConferenceIdRow.digits >= digits,
        ConferenceIdRow.digits < upper,
        ConferenceIdRow.state == "live",
        ConferenceIdRow.kind == "static",
        ConferenceIdRow.owner_user_id.is_not(None),
    )
    third_party = select(User.id).where(User.acp_conference_id >= digits, User.acp_conference_id < upper)
    return [static, third_party]


def search_condition(
    search: str | None, *, dialect: str | None = None, unindexed: bool = False
) -> ColumnElement[bool] | None:
    """The users a search finds, as a condition on `users`; None when the search is empty.

    `dialect` is the database's name ("sqlite", "postgresql"): with "sqlite" the condition goes
    through the FTS5 trigram table, which exists only where migration 0004 made it; without it the
    condition is portable (and a full comparison on SQLite). `unindexed` is the condition for a walk
    in sign-in name order, which tests each user it passes (`text_condition`).
    """
    needle = search_needle(search)
    if not needle:
        return None
    exact = text_condition(needle, unindexed=unindexed, dialect=dialect)
    digits = conference_id_digits(search)
    by_id = _conference_id_candidates(digits) if digits is not None else []
    if dialect == "sqlite" and len(needle) >= TRIGRAM and not unindexed:
        # the candidates come from the indexes; each is read once, checked exactly, then sorted
        trigram = _trigram_candidates(needle)
        if not by_id:
            return and_(User.id.in_(trigram), exact)
        return and_(User.id.in_(union(trigram, *by_id)), or_(exact, User.id.in_(union(*by_id))))
    if not by_id:
        # PostgreSQL combines the three GIN index scans itself (BitmapOr)
        return exact
    if unindexed or len(needle) < TRIGRAM:
        # no index serves the text: each user read is compared in place, against the IDs' owners
        # collected once (as a union, the text would be one more full read of the users)
        return or_(exact, User.id.in_(union(*by_id)))
    candidates = union(select(User.id).where(exact), *by_id)
    if dialect == "postgresql":
        # as an array the candidates are counted right and read by primary key; as `IN (...)` the
        # planner guesses thousands of tenant rows (`tenant_id + 0`) and hashes every user instead
        return User.id == any_(func.array(candidates.scalar_subquery()))
    return User.id.in_(candidates)


def tenant_users(
    tenant_id: int, *, search: str | None, provider: str | None, dialect: str | None, in_order: bool = False
) -> Select[Any]:
    """`select(User)` of one tenant's users that a search finds (and of one provider, if given).

    Where the search has indexed candidates, the tenant condition is written `+tenant_id` (SQLite) or
    `tenant_id + 0` (PostgreSQL), which no index serves: otherwise it may walk every user of the tenant in
    sign-in name order and test each against the candidates, a full scan when few users match.
    `in_order` is that walk, on purpose: the text condition is then one that no trigram index serves
    (`text_condition(unindexed=True)`), for a search with many matches whose first ones lie near the
    start of the tenant's users in sign-in name order (users._first_nearby).
    """
    needle = search_needle(search)
    indexed = len(needle) >= TRIGRAM and not in_order
    if indexed and dialect == "sqlite" and conference_id_digits(search) is None:
        # the search table drives a join: the matches stream in row id order, so a LIMIT (a capped
        # count) stops reading early, where `id IN (...)` would first collect every candidate
        query = (
            select(User)
            .select_from(_FTS_TABLE)
            .join(User, User.id == _FTS_ROWID)
            .where(_fts_match(needle), text_condition(needle, dialect=dialect))
        )
        condition = None
    else:
        query = select(User)
        condition = search_condition(search, dialect=dialect, unindexed=in_order)
    if indexed and dialect == "sqlite":
        query = query.where(
            text("+users.tenant_id = :search_tenant_id").bindparams(search_tenant_id=tenant_id)
        )
    elif indexed and dialect == "postgresql":
        # the same for PostgreSQL's planner, which may otherwise filter the whole (tenant_id, upn) index
        query = query.where(User.tenant_id + 0 == tenant_id)
    else:
        query = query.where(User.tenant_id == tenant_id)
    if condition is not None:
        query = query.where(condition)
    if provider:
        query = query.where(User.provider == provider)
    return query
