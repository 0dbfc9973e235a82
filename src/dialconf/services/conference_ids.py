"""Allocating, claiming and releasing conference IDs on a bridge (DESIGN §2 rules 5-8).

Every allocation, claim and release first locks the bridge row (SELECT ... FOR NO KEY UPDATE on
PostgreSQL; SQLite transactions already hold the write lock), so changes to the IDs of one bridge
never race each other and always take their locks in the same order (bridge, then ID rows); the
unique (bridge, digits) constraint stays as the last line of defence. Random allocation checks
a whole batch of candidates in one query, the batch sized from the bridge's occupancy, so the
number of round trips stays constant even when 99% of the space is in use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import delete, select, update

from dialconf.domain import ids
from dialconf.errors import ConferenceIdQuarantined, ConferenceIdSpaceExhausted, ConferenceIdTaken, Conflict
from dialconf.services.bulk import insert_rows
from dialconf.store.models import Bridge, ConferenceIdRow
from dialconf.store.uow import UnitOfWork

MAX_ROUNDS = 4
_IN_CHUNK = 900  # candidates per IN query: well under every backend's limit on bound parameters


@dataclass(frozen=True, slots=True)
class Allocation:
    digits: str
    rounds: int


def lock_bridge(uow: UnitOfWork, bridge: Bridge) -> int:
    """Lock the bridge row for this transaction and return its current count of IDs in use."""
    return _lock_bridge_id(uow, bridge.id)


def _lock_bridge_id(uow: UnitOfWork, bridge_id: int) -> int:
    # NO KEY UPDATE, not UPDATE: inserting a user or an ID row takes a KEY SHARE lock on the bridge
    # through its foreign key, and FOR UPDATE would deadlock two transactions that both did that first
    count = uow.session.scalar(
        select(Bridge.ids_in_use).where(Bridge.id == bridge_id).with_for_update(key_share=True)
    )
    return int(count or 0)


def _bump(uow: UnitOfWork, bridge: Bridge, delta: int) -> None:
    uow.session.execute(
        update(Bridge).where(Bridge.id == bridge.id).values(ids_in_use=Bridge.ids_in_use + delta)
    )


def allocate(
    uow: UnitOfWork, bridge: Bridge, *, owner_user_id: int | None, kind: str = "static"
) -> Allocation:
    """Hand out a fresh random ID on `bridge`, or raise ConferenceIdSpaceExhausted."""
    now = uow.now()
    in_use = lock_bridge(uow, bridge)
    space = ids.usable_space(bridge.id_length)
    for round_no in range(1, MAX_ROUNDS + 1):
        occupancy = min(in_use / space, 0.9999)
        size = ids.batch_size_for(occupancy) * (2 ** (round_no - 1))
        candidates = ids.draw_batch(uow.rng, bridge.id_length, min(size, 8000))
        taken = _existing(uow, bridge, candidates)
        for digits in candidates:
            row = taken.get(digits)
            if row is None:
                _insert(uow, bridge, digits, owner_user_id, kind, chosen=False, now=now)
                _bump(uow, bridge, 1)
                return Allocation(digits, round_no)
            if _quarantine_over(row, now):
                _reuse(uow, _row(uow, row), owner_user_id, kind, chosen=False, now=now)
                return Allocation(digits, round_no)
    if bridge.id_length <= 6:
        last_resort = _scan_small_space(uow, bridge, owner_user_id, kind, now)
        if last_resort is not None:
            return Allocation(last_resort, MAX_ROUNDS + 1)
    raise ConferenceIdSpaceExhausted(bridge.name, bridge.id_length)


def allocate_many(
    uow: UnitOfWork, bridge: Bridge, owner_user_ids: Sequence[int], *, kind: str = "static"
) -> dict[int, str]:
    """Hand a fresh random ID on `bridge` to each owner: allocate() for a whole chunk of a bulk job.

    The same lock and rules as allocate() (a row whose quarantine is over is reused), but the
    candidates for all owners are checked together, so a chunk costs a few queries, not a few per ID.
    """
    owners = list(owner_user_ids)
    if not owners:
        return {}
    now = uow.now()
    in_use = lock_bridge(uow, bridge)
    space = ids.usable_space(bridge.id_length)
    picked: dict[str, _Taken | None] = {}  # digits -> the expired row to reuse, or None
    for _ in range(MAX_ROUNDS):
        wanted = len(owners) - len(picked)
        if wanted == 0:
            break
        free_share = max(1 - (in_use + len(picked)) / space, 0.01)
        candidates = [
            d
            for d in ids.draw_batch(uow.rng, bridge.id_length, int(wanted / free_share * 1.2) + 16)
            if d not in picked
        ]
        taken: dict[str, _Taken] = {}
        for start in range(0, len(candidates), _IN_CHUNK):
            taken.update(_existing(uow, bridge, candidates[start : start + _IN_CHUNK]))
        for digits in candidates:
            row = taken.get(digits)
            if len(picked) < len(owners) and (row is None or _quarantine_over(row, now)):
                picked[digits] = row
    given = dict(zip(owners, picked, strict=False))
    fresh = [(owner, digits) for owner, digits in given.items() if picked[digits] is None]
    if fresh:
        # one executemany: the new rows are not needed as objects, and it skips the ORM's per-row work
        insert_rows(
            uow,
            ConferenceIdRow,
            [
                {"bridge_id": bridge.id, "digits": digits, **_live(owner, kind, chosen=False, now=now)}
                for owner, digits in fresh
            ],
        )
        _bump(uow, bridge, len(fresh))
    for owner, digits in given.items():
        expired = picked[digits]
        if expired is not None:
            _reuse(uow, _row(uow, expired), owner, kind, chosen=False, now=now)
    # a nearly full small bridge may leave a few without: allocate() scans its whole space for them
    for owner in owners[len(given) :]:
        given[owner] = allocate(uow, bridge, owner_user_id=owner, kind=kind).digits
    return given


def claim(
    uow: UnitOfWork,
    bridge: Bridge,
    digits: str,
    *,
    owner_user_id: int,
    kind: str = "static",
    allow_weak: bool = False,
) -> None:
    """Give a chosen ID to its owner if it is free, out of quarantine and not trivially guessable
    (unless `allow_weak`), or raise."""
    ids.check_chosen(digits, allow_weak=allow_weak)
    now = uow.now()
    lock_bridge(uow, bridge)
    row = uow.session.scalars(
        select(ConferenceIdRow).where(
            ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits == digits
        )
    ).one_or_none()
    if row is None:
        _insert(uow, bridge, digits, owner_user_id, kind, chosen=True, now=now)
        _bump(uow, bridge, 1)
        return
    if row.state == "live":
        raise ConferenceIdTaken(digits)
    if not _quarantine_over(row, now):
        until = row.quarantine_until.date().isoformat() if row.quarantine_until else "later"
        raise ConferenceIdQuarantined(digits, until)
    _reuse(uow, row, owner_user_id, kind, chosen=True, now=now)


def claim_many(uow: UnitOfWork, bridge: Bridge, chosen: Mapping[int, str], *, kind: str = "static") -> None:
    """claim() for a chunk of a bulk job: give each owner (user id) its chosen ID, or raise for the first that is not free.

    An ID whose quarantine is over has a row still: that row is made live again for its new owner,
    as claim() does, instead of a second row that the unique (bridge, digits) constraint would refuse.
    """
    if not chosen:
        return
    now = uow.now()
    lock_bridge(uow, bridge)
    owner_of = {digits: owner for owner, digits in chosen.items()}
    wanted = list(owner_of)
    taken: dict[str, _Taken] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        taken.update(_existing(uow, bridge, wanted[start : start + _IN_CHUNK]))
    for digits in wanted:
        row = taken.get(digits)
        if row is None:
            continue
        if row.state == "live":
            raise ConferenceIdTaken(digits)
        if not _quarantine_over(row, now):
            until = row.quarantine_until.date().isoformat() if row.quarantine_until else "later"
            raise ConferenceIdQuarantined(digits, until)
    fresh = [digits for digits in wanted if digits not in taken]
    insert_rows(
        uow,
        ConferenceIdRow,
        [
            {"bridge_id": bridge.id, "digits": digits, **_live(owner_of[digits], kind, chosen=True, now=now)}
            for digits in fresh
        ],
    )
    reused = [
        {"id": row.id, **_live(owner_of[digits], kind, chosen=True, now=now)} for digits, row in taken.items()
    ]
    if reused:
        # an UPDATE by primary key for each row, in one executemany; the row still counts as in use
        uow.session.execute(update(ConferenceIdRow), reused)
    if fresh:
        _bump(uow, bridge, len(fresh))


def release(uow: UnitOfWork, row: ConferenceIdRow, *, quarantine_days: int) -> None:
    """Stop an ID working for callers now, and keep it out of circulation for the quarantine."""
    # quarantine: an old invitation must never lead a caller into someone else's meeting
    now = uow.now()
    _lock_bridge_id(uow, row.bridge_id)
    # `row` was read before the lock; only release it if it is still live, or two concurrent resets
    # of one user would both release it and both hand out a new ID, leaving the user with two
    still_live = (
        ConferenceIdRow.id == row.id,  # SQLite may give a deleted row's id to the next row: match it all
        ConferenceIdRow.digits == row.digits,
        ConferenceIdRow.owner_user_id == row.owner_user_id,
        ConferenceIdRow.state == "live",
    )
    if quarantine_days <= 0:
        result = uow.session.execute(delete(ConferenceIdRow).where(*still_live))
    else:
        until = now + timedelta(days=quarantine_days)
        result = uow.session.execute(
            update(ConferenceIdRow)
            .where(*still_live)
            .values(state="quarantined", released_at=now, quarantine_until=until)
        )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            f"conference ID {row.digits} was changed by another action at the same moment; try again"
        )
    if quarantine_days <= 0:
        uow.session.execute(
            update(Bridge).where(Bridge.id == row.bridge_id).values(ids_in_use=Bridge.ids_in_use - 1)
        )


def release_static_ids(
    uow: UnitOfWork, owner_user_ids: Sequence[int], *, quarantine_days: int
) -> dict[int, str]:
    """release() the live static ID of each of these users at once; returns the released digits by owner.

    For a chunk of a bulk job: the same locks as release(), one statement for all the IDs.
    """
    found = _live_static(uow, owner_user_ids)
    if not found:
        return {}
    now = uow.now()
    for bridge_id in sorted({bridge_id for _, bridge_id, _ in found.values()}):
        _lock_bridge_id(uow, bridge_id)
    still_live = (
        ConferenceIdRow.id.in_([row_id for row_id, _, _ in found.values()]),
        ConferenceIdRow.state == "live",
    )
    # "fetch": update the rows the session holds by the keys the statement returns (none, in a bulk
    # job); the default would test the IN list against every object in the session, one by one
    fetch = {"synchronize_session": "fetch"}
    if quarantine_days <= 0:
        result = uow.session.execute(delete(ConferenceIdRow).where(*still_live), execution_options=fetch)
    else:
        until = now + timedelta(days=quarantine_days)
        result = uow.session.execute(
            update(ConferenceIdRow)
            .where(*still_live)
            .values(state="quarantined", released_at=now, quarantine_until=until),
            execution_options=fetch,
        )
    if result.rowcount != len(found):  # type: ignore[attr-defined]
        raise Conflict("conference IDs were changed by another action at the same moment; try again")
    if quarantine_days <= 0:
        for bridge_id, count in Counter(bridge_id for _, bridge_id, _ in found.values()).items():
            uow.session.execute(
                update(Bridge).where(Bridge.id == bridge_id).values(ids_in_use=Bridge.ids_in_use - count)
            )
    return {owner: digits for owner, (_, _, digits) in found.items()}


def live_static_ids(uow: UnitOfWork, owner_user_ids: Sequence[int]) -> dict[int, str]:
    """live_static_row for many users at once: the digits of each one's live static ID, by owner."""
    return {owner: digits for owner, (_, _, digits) in _live_static(uow, owner_user_ids).items()}


def _live_static(uow: UnitOfWork, owner_user_ids: Sequence[int]) -> dict[int, tuple[int, int, str]]:
    """(row id, bridge id, digits) of each owner's live static ID; plain columns, as bulk jobs need no objects."""
    found: dict[int, tuple[int, int, str]] = {}
    for row_id, owner, bridge_id, digits in uow.session.execute(
        select(
            ConferenceIdRow.id,
            ConferenceIdRow.owner_user_id,
            ConferenceIdRow.bridge_id,
            ConferenceIdRow.digits,
        )
        .where(
            ConferenceIdRow.owner_user_id.in_(list(owner_user_ids)),
            ConferenceIdRow.state == "live",
            ConferenceIdRow.kind == "static",
        )
        .order_by(ConferenceIdRow.id)
    ):
        if owner is not None:
            found.setdefault(owner, (row_id, bridge_id, digits))
    return found


def live_static_row(uow: UnitOfWork, user_id: int) -> ConferenceIdRow | None:
    return uow.session.scalars(
        select(ConferenceIdRow).where(
            ConferenceIdRow.owner_user_id == user_id,
            ConferenceIdRow.state == "live",
            ConferenceIdRow.kind == "static",
        )
    ).first()


class _Taken(NamedTuple):
    """What allocation needs to know of a candidate that already has a row on the bridge."""

    id: int
    state: str
    quarantine_until: datetime | None


def _existing(uow: UnitOfWork, bridge: Bridge, candidates: list[str]) -> dict[str, _Taken]:
    # three columns as plain rows: at 99% occupancy most of ~1,400 candidates are taken, and loading
    # each as an ORM object would cost more than the query
    rows = uow.session.execute(
        select(
            ConferenceIdRow.digits,
            ConferenceIdRow.id,
            ConferenceIdRow.state,
            ConferenceIdRow.quarantine_until,
        ).where(ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits.in_(candidates))
    )
    return {digits: _Taken(row_id, state, until) for digits, row_id, state, until in rows}


def _row(uow: UnitOfWork, taken: _Taken) -> ConferenceIdRow:
    row = uow.session.get(ConferenceIdRow, taken.id)
    assert row is not None  # the bridge is locked: nobody removed it since _existing read it
    return row


def _quarantine_over(row: ConferenceIdRow | _Taken, now: datetime) -> bool:
    return row.state == "quarantined" and row.quarantine_until is not None and row.quarantine_until <= now


def _live(owner: int | None, kind: str, *, chosen: bool, now: datetime) -> dict[str, object]:
    """The column values of an ID handed to `owner` now: a new row, or a row whose quarantine is over."""
    return {
        "state": "live",
        "kind": kind,
        "chosen": chosen,
        "owner_user_id": owner,
        "created_at": now,
        "released_at": None,
        "quarantine_until": None,
    }


def _insert(
    uow: UnitOfWork, bridge: Bridge, digits: str, owner: int | None, kind: str, *, chosen: bool, now: datetime
) -> None:
    uow.session.add(ConferenceIdRow(bridge_id=bridge.id, digits=digits, **_live(owner, kind, chosen=chosen, now=now)))
    uow.session.flush()


def _reuse(
    uow: UnitOfWork, row: ConferenceIdRow, owner: int | None, kind: str, *, chosen: bool, now: datetime
) -> None:
    for column, value in _live(owner, kind, chosen=chosen, now=now).items():
        setattr(row, column, value)
    uow.session.flush()


def _scan_small_space(
    uow: UnitOfWork, bridge: Bridge, owner: int | None, kind: str, now: datetime
) -> str | None:
    """Last resort on a small bridge: look at every usable ID, so 'exhausted' is never a guess."""
    used = {
        digits: (state, until)
        for digits, state, until in uow.session.execute(
            select(ConferenceIdRow.digits, ConferenceIdRow.state, ConferenceIdRow.quarantine_until).where(
                ConferenceIdRow.bridge_id == bridge.id
            )
        )
    }
    free = [d for d in ids.enumerate_space(bridge.id_length) if d not in used]
    if free:
        digits = uow.rng.choice(free)
        _insert(uow, bridge, digits, owner, kind, chosen=False, now=now)
        _bump(uow, bridge, 1)
        return digits
    expired = [d for d, (state, until) in used.items() if state == "quarantined" and until and until <= now]
    if expired:
        digits = uow.rng.choice(expired)
        uow.session.execute(
            delete(ConferenceIdRow).where(
                ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits == digits
            )
        )
        _insert(uow, bridge, digits, owner, kind, chosen=False, now=now)
        return digits
    return None
