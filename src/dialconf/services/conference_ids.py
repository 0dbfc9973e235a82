"""Allocating, claiming and releasing conference IDs on a bridge (DESIGN §2 rules 5-8).

Every allocation first locks the bridge row (SELECT ... FOR UPDATE on PostgreSQL; SQLite
transactions already hold the write lock), so allocations on one bridge never race each other;
the unique (bridge, digits) constraint stays as the last line of defence. Random allocation checks
a whole batch of candidates in one query, the batch sized from the bridge's occupancy, so the
number of round trips stays constant even when 99% of the space is in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from dialconf.domain import ids
from dialconf.errors import ConferenceIdQuarantined, ConferenceIdSpaceExhausted, ConferenceIdTaken
from dialconf.store.models import Bridge, ConferenceIdRow
from dialconf.store.uow import UnitOfWork

MAX_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class Allocation:
    digits: str
    rounds: int


def _lock_bridge(uow: UnitOfWork, bridge: Bridge) -> int:
    """Lock the bridge row for this transaction and return its current count of IDs in use."""
    count = uow.session.scalar(select(Bridge.ids_in_use).where(Bridge.id == bridge.id).with_for_update())
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
    in_use = _lock_bridge(uow, bridge)
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
                _reuse(uow, row, owner_user_id, kind, chosen=False, now=now)
                return Allocation(digits, round_no)
    if bridge.id_length <= 6:
        digits = _scan_small_space(uow, bridge, owner_user_id, kind, now)
        if digits is not None:
            return Allocation(digits, MAX_ROUNDS + 1)
    raise ConferenceIdSpaceExhausted(bridge.name, bridge.id_length)


def claim(uow: UnitOfWork, bridge: Bridge, digits: str, *, owner_user_id: int, kind: str = "static") -> None:
    """Give a chosen ID to its owner if it is free and out of quarantine, or raise."""
    now = uow.now()
    _lock_bridge(uow, bridge)
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


def release(uow: UnitOfWork, row: ConferenceIdRow, *, quarantine_days: int) -> None:
    """Stop an ID working for callers now, and keep it out of circulation for the quarantine."""
    # quarantine: an old invitation must never lead a caller into someone else's meeting
    now = uow.now()
    if quarantine_days <= 0:
        bridge = uow.session.get(Bridge, row.bridge_id)
        assert bridge is not None
        _lock_bridge(uow, bridge)
        uow.session.delete(row)
        _bump(uow, bridge, -1)
        return
    row.state = "quarantined"
    row.released_at = now
    row.quarantine_until = now + timedelta(days=quarantine_days)


def live_static_row(uow: UnitOfWork, user_id: int) -> ConferenceIdRow | None:
    return uow.session.scalars(
        select(ConferenceIdRow).where(
            ConferenceIdRow.owner_user_id == user_id,
            ConferenceIdRow.state == "live",
            ConferenceIdRow.kind == "static",
        )
    ).first()


def _existing(uow: UnitOfWork, bridge: Bridge, candidates: list[str]) -> dict[str, ConferenceIdRow]:
    rows = uow.session.scalars(
        select(ConferenceIdRow).where(
            ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits.in_(candidates)
        )
    )
    return {row.digits: row for row in rows}


def _quarantine_over(row: ConferenceIdRow, now: datetime) -> bool:
    return row.state == "quarantined" and row.quarantine_until is not None and row.quarantine_until <= now


def _insert(
    uow: UnitOfWork, bridge: Bridge, digits: str, owner: int | None, kind: str, *, chosen: bool, now: datetime
) -> None:
    uow.session.add(
        ConferenceIdRow(
            bridge_id=bridge.id,
            digits=digits,
            state="live",
            kind=kind,
            chosen=chosen,
            owner_user_id=owner,
            created_at=now,
        )
    )
    uow.session.flush()


def _reuse(
    uow: UnitOfWork, row: ConferenceIdRow, owner: int | None, kind: str, *, chosen: bool, now: datetime
) -> None:
    row.state, row.kind, row.chosen, row.owner_user_id = "live", kind, chosen, owner
    row.created_at, row.released_at, row.quarantine_until = now, None, None
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
