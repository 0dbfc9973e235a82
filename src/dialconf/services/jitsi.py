"""Jitsi Meet compatibility: a conference mapper (room <-> conference ID) and the dial-in numbers of a room.

A tenant names its Jitsi MUC domain (`tenant set --jitsi-muc-domain`); each room on it gets a
persistent conference ID of its own, allocated on the tenant's first bridge by the usual allocator
(kind 'jitsi', no organizer). A call to that ID resolves to the room (services.dialin), and the PBX
hands it to Jigasi in the `Jitsi-Conference-Room` header (docs/jitsi.md).

Jitsi lowercases room names and URL-encodes them (encodeURIComponent) before it asks, and some
clients send them unencoded: `Standup`, `standup` and `%C3%A9quipe` / `équipe` fold to one room.

The mapper is public (Jitsi's browser client calls it without credentials), so the rooms it creates
are capped per tenant (`tenant set --jitsi-max-rooms`): over the cap it creates none, rooms already
mapped still resolve, and the first refusal of each episode writes the audit event `jitsi.rooms.full`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from dialconf.domain import numbers
from dialconf.domain.ids import clean_digits
from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import InvalidInput, NotFound
from dialconf.services import conference_ids
from dialconf.services.common import audit, get_tenant
from dialconf.services.views import View
from dialconf.store.models import Bridge, ConferenceIdRow, JitsiRoom, ServiceNumber, Tenant
from dialconf.store.uow import UnitOfWork

KIND = "jitsi"
_URI_SAFE = "-_.!~*'()"  # what encodeURIComponent leaves as it is


class JitsiRoomNotFound(NotFound):
    """No tenant serves this MUC domain, or no room has this ID."""

    def __init__(self, message: str = "No conference mapping was found") -> None:
        super().__init__(message)


class JitsiRoomsFull(JitsiRoomNotFound):
    """The tenant's mapper has created as many rooms as its cap allows: a new room gets no ID."""

    def __init__(self) -> None:
        super().__init__(
            "No conference mapping was found: this Jitsi deployment has reached its limit of dial-in rooms"
        )


# who the audit names for what the anonymous public mapper does (only the name is recorded)
MAPPER = Actor(name="jitsi conference mapper", role=Role.PBX)


@dataclass(frozen=True)
class Mapping:
    conference: str  # room@muc.domain, folded as Jitsi folds it
    digits: str


@dataclass(frozen=True)
class PhoneNumber:
    country_code: str
    toll_free: bool
    formatted_number: str
    default: bool


def fold_room(conference: str) -> str:
    """`Standup@Conference.Example.org` -> `standup@conference.example.org`; InvalidInput if it is no room JID."""
    node, at, domain = (conference or "").strip().rpartition("@")
    node = unquote(node).strip()
    domain = domain.strip().lower().rstrip(".")
    if not at or not node or not domain or "/" in domain or len(node) > 200:
        raise InvalidInput("conference must be a room address: room@conference.example.org")
    return f"{quote(node.lower(), safe=_URI_SAFE)}@{domain}"


def id_for_room(uow: UnitOfWork, *, conference: str, client: str | None = None) -> Mapping:
    """The room's persistent conference ID, allocated the first time the room is asked for.

    JitsiRoomsFull when the room is new and the tenant's cap of mapped rooms is reached; `client`
    (the asking address) is named in the audit event of the episode.
    """
    room = fold_room(conference)
    domain = room.rpartition("@")[2]
    for _ in range(2):  # a parallel first request for the same room: the second reads the first's ID
        try:
            return _map(uow, room, domain, client)
        except IntegrityError:
            continue
    return _map(uow, room, domain, client)


def _map(uow: UnitOfWork, room: str, domain: str, client: str | None) -> Mapping:
    with uow:
        tenant_id = uow.session.scalar(select(Tenant.id).where(Tenant.jitsi_muc_domain == domain))
        if tenant_id is None:
            raise JitsiRoomNotFound()
        held = uow.session.scalar(
            select(ConferenceIdRow.digits)
            .join(JitsiRoom, JitsiRoom.conference_id_id == ConferenceIdRow.id)
            .where(JitsiRoom.tenant_id == tenant_id, JitsiRoom.room == room, ConferenceIdRow.state == "live")
        )
        if held is not None:
            return Mapping(room, held)
        # the bridge's row lock (the allocator takes it anyway) also makes count-then-create one step:
        # parallel new rooms of one tenant cannot all pass the cap
        bridge = uow.session.scalars(
            select(Bridge).where(Bridge.tenant_id == tenant_id).order_by(Bridge.id).limit(1).with_for_update()
        ).first()
        if bridge is None:
            raise JitsiRoomNotFound()
        tenant = uow.session.get_one(Tenant, tenant_id, populate_existing=True)
        # a room whose ID was released (quarantined) gets a new one, in its own place under the cap
        stale = uow.session.scalars(
            select(JitsiRoom).where(JitsiRoom.tenant_id == tenant_id, JitsiRoom.room == room)
        ).one_or_none()
        if stale is not None:
            uow.session.delete(stale)
            uow.session.flush()
        else:
            rooms = uow.session.scalar(
                select(func.count()).select_from(JitsiRoom).where(JitsiRoom.tenant_id == tenant_id)
            )
            if (rooms or 0) >= tenant.jitsi_max_rooms:
                _refuse(uow, tenant, rooms or 0, client)
        if tenant.jitsi_rooms_full_since is not None:
            tenant.jitsi_rooms_full_since = None  # under the cap again (raised, or rooms gone): episode over
        digits = conference_ids.allocate(uow, bridge, owner_user_id=None, kind=KIND).digits
        row_id = uow.session.scalar(
            select(ConferenceIdRow.id).where(
                ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits == digits
            )
        )
        assert row_id is not None
        uow.session.add(
            JitsiRoom(tenant_id=tenant_id, room=room, conference_id_id=row_id, created_at=uow.now())
        )
        uow.commit()
        return Mapping(room, digits)


def _refuse(uow: UnitOfWork, tenant: Tenant, rooms: int, client: str | None) -> None:
    """Refuse a new room over the cap; the first refusal of an episode is audited (and committed)."""
    if tenant.jitsi_rooms_full_since is None:
        tenant.jitsi_rooms_full_since = uow.now()
        asked = f" (first refused for {client})" if client else ""
        audit(
            uow,
            MAPPER,
            "jitsi.rooms.full",
            f"{tenant.name}/{tenant.jitsi_muc_domain}",
            tenant_id=tenant.id,
            detail=(
                f"the Jitsi conference mapper refuses new rooms{asked}: {rooms} rooms are mapped and the "
                f"limit is {tenant.jitsi_max_rooms} (dialconf tenant set {tenant.name} --jitsi-max-rooms N); "
                "rooms already mapped still resolve"
            ),
        )
        uow.commit()
    raise JitsiRoomsFull()


def room_for_id(uow: UnitOfWork, *, digits: str) -> Mapping:
    """The room a live Jitsi conference ID belongs to; JitsiRoomNotFound if none (or more than one)."""
    typed = clean_digits(digits)
    if not typed.isdigit():
        raise JitsiRoomNotFound()
    with uow.read():
        rooms = uow.session.scalars(
            select(JitsiRoom.room)
            .join(ConferenceIdRow, ConferenceIdRow.id == JitsiRoom.conference_id_id)
            .where(ConferenceIdRow.digits == typed, ConferenceIdRow.state == "live")
            .limit(2)
        ).all()
    if len(rooms) != 1:
        raise JitsiRoomNotFound()
    return Mapping(rooms[0], typed)


def phone_numbers(uow: UnitOfWork, *, conference: str) -> list[PhoneNumber]:
    """The dial-in numbers for a room: those of the bridge its ID is on (or the tenant's first bridge)."""
    room = fold_room(conference)
    domain = room.rpartition("@")[2]
    with uow.read():
        tenant_id = uow.session.scalar(select(Tenant.id).where(Tenant.jitsi_muc_domain == domain))
        if tenant_id is None:
            raise JitsiRoomNotFound()
        bridge_id = uow.session.scalar(
            select(ConferenceIdRow.bridge_id)
            .join(JitsiRoom, JitsiRoom.conference_id_id == ConferenceIdRow.id)
            .where(JitsiRoom.tenant_id == tenant_id, JitsiRoom.room == room)
        ) or uow.session.scalar(
            select(Bridge.id).where(Bridge.tenant_id == tenant_id).order_by(Bridge.id).limit(1)
        )
        if bridge_id is None:
            return []
        default = uow.session.scalar(select(Bridge.default_number_id).where(Bridge.id == bridge_id))
        rows = uow.session.scalars(
            select(ServiceNumber).where(ServiceNumber.bridge_id == bridge_id).order_by(ServiceNumber.e164)
        ).all()
        return [
            PhoneNumber(
                country_code=row.country or numbers.country_of(row.e164) or "",
                toll_free=row.toll_free,
                formatted_number=numbers.international(row.e164),
                default=row.id == default,
            )
            for row in rows
        ]


MAX_ROOM_LIST = 10_000


@dataclass(frozen=True)
class RoomView(View):
    room: str  # room@muc.domain, as Jitsi folds it
    conference_id: str
    live: bool  # False: its ID was released, and the room gets a new one when Jitsi next asks
    created_at: datetime


def list_rooms(uow: UnitOfWork, *, tenant: str, actor: Actor, limit: int = 1000) -> list[RoomView]:
    """The tenant's mapped Jitsi rooms, newest first (the ones an abuser of the public mapper made come first)."""
    if not 1 <= limit <= MAX_ROOM_LIST:
        raise InvalidInput(f"limit must be 1 to {MAX_ROOM_LIST}, not {limit}")
    with uow.read():
        t = get_tenant(uow, tenant, actor)
        rows = uow.session.execute(
            select(JitsiRoom.room, ConferenceIdRow.digits, ConferenceIdRow.state, JitsiRoom.created_at)
            .join(ConferenceIdRow, ConferenceIdRow.id == JitsiRoom.conference_id_id)
            .where(JitsiRoom.tenant_id == t.id)
            .order_by(JitsiRoom.created_at.desc(), JitsiRoom.id.desc())
            .limit(limit)
        )
        return [RoomView(room, digits, state == "live", created) for room, digits, state, created in rows]


def parse_since(text: str) -> datetime:
    """A time as an admin types it (ISO 8601, such as 2026-12-01T09:00; unmap_rooms reads it as UTC
    unless it has an offset)."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"--created-since must be an ISO 8601 time such as 2026-12-01T09:00, not '{text}'"
        ) from None


def unmap_rooms(
    uow: UnitOfWork,
    *,
    tenant: str,
    actor: Actor,
    rooms: Sequence[str] = (),
    created_since: datetime | None = None,
) -> list[str]:
    """Forget mapped rooms, named or made since a time; returns the rooms forgotten.

    Their IDs are released like any other (quarantined: a caller with an old number is refused, never
    sent into another room), and each frees its place under the cap. A forgotten room that Jitsi asks
    for again gets a new ID. Unknown room names are refused, nothing forgotten.
    """
    if not rooms and created_since is None:
        raise InvalidInput("name the rooms to unmap, or give --created-since")
    if created_since is not None and created_since.tzinfo is None:
        created_since = created_since.replace(tzinfo=UTC)  # a time without an offset is UTC
    folded = sorted({fold_room(room) for room in rooms})
    with uow:
        t = get_tenant(uow, tenant, actor, Permission.MANAGE_SETTINGS)
        query = select(JitsiRoom).where(JitsiRoom.tenant_id == t.id)
        if folded:
            query = query.where(JitsiRoom.room.in_(folded))
        if created_since is not None:
            query = query.where(JitsiRoom.created_at >= created_since)
        found = list(uow.session.scalars(query.order_by(JitsiRoom.id)))
        missing = sorted(set(folded) - {room.room for room in found})
        if missing:
            raise JitsiRoomNotFound(f"tenant '{t.name}' has no mapped Jitsi room {', '.join(missing)}")
        for room in found:
            row = uow.session.get(ConferenceIdRow, room.conference_id_id)
            uow.session.delete(room)
            uow.session.flush()
            if row is not None and row.state == "live":
                conference_ids.release(uow, row, quarantine_days=t.id_quarantine_days)
        forgotten = [room.room for room in found]
        if forgotten:
            audit(
                uow,
                actor,
                "jitsi.rooms.unmap",
                t.name,
                tenant_id=t.id,
                detail=f"{len(forgotten)} rooms unmapped",
                after={"rooms": forgotten[:100]},
            )
        uow.commit()
        return forgotten
