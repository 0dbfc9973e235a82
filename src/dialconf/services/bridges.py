"""Bridges and their service numbers (DESIGN §1 'Bridge', 'Service number')."""

from __future__ import annotations

import re

from sqlalchemy import or_, select, update

from dialconf.domain import numbers
from dialconf.domain.ids import DEFAULT_BRIDGE_ID_LENGTH, validate_bridge_length
from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import AlreadyExists, Conflict, Forbidden, InvalidInput, NumberNotFound
from dialconf.services.common import audit, get_bridge, get_tenant
from dialconf.services.meeting_migrations import queue_bridge_default_migrations
from dialconf.services.views import BridgeView, NumberView
from dialconf.store.models import Bridge, ServiceNumber, Tenant, User
from dialconf.store.uow import UnitOfWork

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
MAX_SECONDARY_LANGUAGES = 4


def number_view(uow: UnitOfWork, number: ServiceNumber, tenant: Tenant, bridge: Bridge) -> NumberView:
    return NumberView(
        number=number.e164,
        display=numbers.international(number.e164),
        tenant=tenant.name,
        bridge=bridge.name,
        toll_free=number.toll_free,
        default=bridge.default_number_id == number.id,
        city=number.city,
        country=number.country,
        primary_language=number.primary_language,
        secondary_languages=list(number.secondary_languages or []),
    )


def bridge_view(uow: UnitOfWork, tenant: Tenant, bridge: Bridge) -> BridgeView:
    rows = uow.session.scalars(
        select(ServiceNumber).where(ServiceNumber.bridge_id == bridge.id).order_by(ServiceNumber.e164)
    )
    nums = [number_view(uow, n, tenant, bridge) for n in rows]
    default = next((n.number for n in nums if n.default), None)
    return BridgeView(
        name=bridge.name,
        tenant=tenant.name,
        id_length=bridge.id_length,
        default_number=default,
        ids_in_use=bridge.ids_in_use,
        numbers=nums,
    )


def create_bridge(
    uow: UnitOfWork, *, tenant: str, name: str, actor: Actor, id_length: int = DEFAULT_BRIDGE_ID_LENGTH
) -> BridgeView:
    """Create a bridge; its conference ID length is fixed for good at this moment."""
    validate_bridge_length(id_length)
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$", name or ""):
        raise InvalidInput(f"'{name}' is not a valid bridge name (letters, digits, space, '.', '_', '-')")
    with uow:
        t = get_tenant(uow, tenant, actor, Permission.CREATE_BRIDGES)
        exists = uow.session.scalars(
            select(Bridge).where(Bridge.tenant_id == t.id, Bridge.name == name)
        ).first()
        if exists is not None:
            raise AlreadyExists(f"tenant '{tenant}' already has a bridge called '{name}'")
        bridge = Bridge(tenant_id=t.id, name=name, id_length=id_length, ids_in_use=0, created_at=uow.now())
        uow.session.add(bridge)
        uow.session.flush()
        audit(uow, actor, "bridge.create", name, tenant_id=t.id, after={"id_length": id_length})
        view = bridge_view(uow, t, bridge)
        uow.commit()
        return view


def show_bridges(uow: UnitOfWork, *, tenant: str, actor: Actor, name: str | None = None) -> list[BridgeView]:
    with uow.read():
        t = get_tenant(uow, tenant, actor)
        if name:
            return [bridge_view(uow, t, get_bridge(uow, t, name))]
        bridges = uow.session.scalars(select(Bridge).where(Bridge.tenant_id == t.id).order_by(Bridge.id))
        return [bridge_view(uow, t, b) for b in bridges]


def add_number(
    uow: UnitOfWork,
    *,
    tenant: str,
    number: str,
    actor: Actor,
    bridge: str | None = None,
    toll_free: bool = False,
    city: str | None = None,
    default: bool = False,
    languages: list[str] | None = None,
) -> NumberView:
    """Add a dial-in number to a bridge (operator only); the first toll number becomes the bridge default."""
    e164 = numbers.parse_e164(number)
    langs = [lang.strip() for lang in (languages or ["en-US"]) if lang.strip()] or ["en-US"]
    for lang in langs:
        if not _LANGUAGE.match(lang):
            raise InvalidInput(f"'{lang}' is not a language tag such as en-US or de-DE")
    if len(set(langs)) != len(langs):
        raise InvalidInput("a prompt language is listed twice")
    if len(langs) > 1 + MAX_SECONDARY_LANGUAGES:
        raise InvalidInput(
            f"a number has one primary and at most {MAX_SECONDARY_LANGUAGES} secondary languages"
        )
    if default and toll_free:
        raise InvalidInput("only a toll number can be the bridge default, and this one is toll-free")
    with uow:
        t = get_tenant(uow, tenant, actor)
        # numbers are the operator's inventory; and "already in use" must never tell an admin that
        # another tenant has this number
        if not actor.may(Permission.ADD_NUMBERS):
            raise Forbidden(
                f"{actor.name} is {'an' if actor.role is Role.ADMIN else 'a'} {actor.role} and may not add "
                "service numbers: they are the operator's inventory; ask the operator of this dialconf "
                f"installation (dialconf number add {t.name} {e164})"
            )
        b = get_bridge(uow, t, bridge)
        if uow.session.scalars(select(ServiceNumber).where(ServiceNumber.e164 == e164)).first() is not None:
            raise AlreadyExists(f"service number {e164} is already in use")
        row = ServiceNumber(
            tenant_id=t.id,
            bridge_id=b.id,
            e164=e164,
            toll_free=toll_free,
            city=city.strip() if city else None,
            country=numbers.country_of(e164),
            primary_language=langs[0],
            secondary_languages=langs[1:],
        )
        uow.session.add(row)
        uow.session.flush()
        if not toll_free and (default or b.default_number_id is None):
            b.default_number_id = row.id
            # organizers without a toll number of their own now have this one in their invitations
            queue_bridge_default_migrations(uow, t, b, reason="bridge default number changed")
        audit(
            uow,
            actor,
            "number.add",
            e164,
            tenant_id=t.id,
            after={"bridge": b.name, "toll_free": toll_free, "default": b.default_number_id == row.id},
        )
        view = number_view(uow, row, t, b)
        uow.commit()
        return view


def list_numbers(uow: UnitOfWork, *, tenant: str, actor: Actor) -> list[NumberView]:
    with uow.read():
        t = get_tenant(uow, tenant, actor)
        rows = uow.session.execute(
            select(ServiceNumber, Bridge)
            .join(Bridge, Bridge.id == ServiceNumber.bridge_id)
            .where(ServiceNumber.tenant_id == t.id)
            .order_by(Bridge.id, ServiceNumber.e164)
        )
        return [number_view(uow, n, t, b) for n, b in rows]


def _get_number(uow: UnitOfWork, t: Tenant, number: str) -> tuple[ServiceNumber, Bridge]:
    e164 = numbers.parse_e164(number)
    row = uow.session.scalars(
        select(ServiceNumber).where(ServiceNumber.e164 == e164, ServiceNumber.tenant_id == t.id)
    ).first()
    if row is None:
        raise NumberNotFound(e164, f"a service number of tenant '{t.name}'")
    bridge = uow.session.get(Bridge, row.bridge_id)
    assert bridge is not None
    return row, bridge


def remove_number(uow: UnitOfWork, *, tenant: str, number: str, actor: Actor) -> NumberView:
    """Remove a number nobody depends on: not the bridge default, not any user's default number."""
    with uow:
        t = get_tenant(uow, tenant, actor, Permission.MANAGE_SETTINGS)
        row, bridge = _get_number(uow, t, number)
        if bridge.default_number_id == row.id:
            others = uow.session.scalars(
                select(ServiceNumber).where(
                    ServiceNumber.bridge_id == bridge.id, ServiceNumber.id != row.id, ~ServiceNumber.toll_free
                )
            ).first()
            if others is not None:
                raise Conflict(
                    f"{row.e164} is the default number of bridge '{bridge.name}'; "
                    f"make another toll number the default first (dialconf number set-default {t.name} NUMBER)"
                )
        users = uow.session.scalar(
            select(User.upn)
            .where(User.enabled, or_(User.toll_number_id == row.id, User.toll_free_number_id == row.id))
            .limit(1)
        )
        if users is not None:
            raise Conflict(
                f"{row.e164} is the default number of user '{users}' (and maybe others); "
                "give them another number first (dialconf user set-default-number)"
            )
        view = number_view(uow, row, t, bridge)
        if bridge.default_number_id == row.id:
            bridge.default_number_id = None
            queue_bridge_default_migrations(uow, t, bridge, reason="bridge default number removed")
        uow.session.delete(row)
        audit(uow, actor, "number.remove", row.e164, tenant_id=t.id, before={"bridge": bridge.name})
        uow.commit()
        return view


def set_default_number(uow: UnitOfWork, *, tenant: str, number: str, actor: Actor) -> NumberView:
    """Make a toll number the default of its bridge."""
    with uow:
        t = get_tenant(uow, tenant, actor, Permission.MANAGE_SETTINGS)
        row, bridge = _get_number(uow, t, number)
        if row.toll_free:
            raise InvalidInput(f"{row.e164} is toll-free; only a toll number can be the bridge default")
        before = bridge.default_number_id
        previous = uow.session.get(ServiceNumber, before) if before else None
        bridge.default_number_id = row.id
        uow.session.execute(update(Bridge).where(Bridge.id == bridge.id).values(default_number_id=row.id))
        if before != row.id:
            queue_bridge_default_migrations(uow, t, bridge, reason="bridge default number changed")
        audit(
            uow,
            actor,
            "bridge.default_number",
            bridge.name,
            tenant_id=t.id,
            before={"default_number": previous.e164 if previous else None},
            after={"default_number": row.e164},
        )
        view = number_view(uow, row, t, bridge)
        uow.commit()
        return view
