"""Reading users as surfaces show them, and the numbers a user's invitations carry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from dialconf.domain import numbers
from dialconf.domain.ids import format_for_callers
from dialconf.errors import InvalidInput, NumberNotFound, TenantNotFound
from dialconf.services.views import UserView
from dialconf.store.models import Bridge, ConferenceIdRow, ServiceNumber, Tenant, User
from dialconf.store.uow import UnitOfWork


@dataclass(frozen=True)
class DefaultNumbers:
    toll: ServiceNumber | None
    toll_free: ServiceNumber | None


def pick_default_numbers(uow: UnitOfWork, bridge: Bridge, country: str | None) -> DefaultNumbers:
    """A user's defaults: numbers of their usage country on the bridge, else the bridge default."""
    rows = list(uow.session.scalars(select(ServiceNumber).where(ServiceNumber.bridge_id == bridge.id)))
    bridge_default = next((n for n in rows if n.id == bridge.default_number_id), None)
    toll = bridge_default
    toll_free = None
    if country:
        local_toll = [n for n in rows if not n.toll_free and n.country == country]
        if local_toll and (bridge_default is None or bridge_default.country != country):
            toll = min(local_toll, key=lambda n: n.id)
        local_free = [n for n in rows if n.toll_free and n.country == country]
        toll_free = min(local_free, key=lambda n: n.id) if local_free else None
    return DefaultNumbers(toll=toll, toll_free=toll_free)


def number_on_bridge(uow: UnitOfWork, bridge: Bridge, number: str, *, toll_free: bool) -> ServiceNumber:
    """The bridge's service number `number` of the right kind, or a clear error."""
    e164 = numbers.parse_e164(number)
    row = uow.session.scalars(
        select(ServiceNumber).where(ServiceNumber.e164 == e164, ServiceNumber.bridge_id == bridge.id)
    ).first()
    if row is None:
        raise NumberNotFound(e164, f"a service number on the user's bridge '{bridge.name}'")
    if row.toll_free != toll_free:
        kind = "toll-free" if row.toll_free else "toll"
        wanted = "toll-free" if toll_free else "toll"
        raise InvalidInput(f"{e164} is a {kind} number; a {wanted} number is needed here")
    return row


def toll_number_id(user: User, bridge: Bridge | None) -> int | None:
    """The id of the toll number callers are given for a builtin user: their own default, or else
    the bridge's (a user enabled before the bridge had numbers has none of their own)."""
    if user.toll_number_id is not None or user.provider != "builtin" or bridge is None:
        return user.toll_number_id
    return bridge.default_number_id


def own_or_bridge_toll(uow: UnitOfWork, user: User) -> int | None:
    """toll_number_id, reading the user's bridge."""
    return toll_number_id(user, uow.session.get(Bridge, user.bridge_id))


def user_views(uow: UnitOfWork, users: Sequence[User]) -> list[UserView]:
    """Build the views of many users with a fixed number of queries."""
    if not users:
        return []
    session = uow.session
    tenant_ids = {u.tenant_id for u in users}
    bridge_ids = {u.bridge_id for u in users}
    tenants = {t.id: t for t in session.scalars(select(Tenant).where(Tenant.id.in_(tenant_ids)))}
    bridges = {b.id: b for b in session.scalars(select(Bridge).where(Bridge.id.in_(bridge_ids)))}
    tolls = {u.id: toll_number_id(u, bridges[u.bridge_id]) for u in users}
    number_ids = {n for u in users for n in (tolls[u.id], u.toll_free_number_id) if n is not None}
    nums = (
        {n.id: n.e164 for n in session.scalars(select(ServiceNumber).where(ServiceNumber.id.in_(number_ids)))}
        if number_ids
        else {}
    )
    user_ids = [u.id for u in users]
    static_ids: dict[int, str] = {}
    for chunk_start in range(0, len(user_ids), 900):
        chunk = user_ids[chunk_start : chunk_start + 900]
        for owner, digits in session.execute(
            select(ConferenceIdRow.owner_user_id, ConferenceIdRow.digits).where(
                ConferenceIdRow.owner_user_id.in_(chunk),
                ConferenceIdRow.state == "live",
                ConferenceIdRow.kind == "static",
            )
        ):
            if owner is not None:
                static_ids[owner] = digits
    now = uow.now()
    views = []
    for u in users:
        tenant = tenants[u.tenant_id]
        if u.provider == "third-party":
            conference_id = u.acp_conference_id
            display = format_for_callers(conference_id) if conference_id else "Not set (enter it by hand)"
        elif not u.enabled:
            conference_id, display = None, "None (user disabled)"
        elif tenant.conference_id_mode == "dynamic":
            conference_id, display = None, "Dynamic — one per meeting"
        else:
            conference_id = static_ids.get(u.id)
            display = format_for_callers(conference_id) if conference_id else "None"
        third_party = None
        if u.provider == "third-party":
            third_party = {
                "provider_name": u.acp_provider_name,
                "domain": u.acp_domain,
                "toll_number": u.acp_toll_number,
                "toll_free_numbers": list(u.acp_toll_free_numbers or []),
                "participant_passcode": u.acp_participant_passcode,
                "url": u.acp_url,
            }
        if u.provider == "third-party":
            # the invitations of a third-party user carry the provider's numbers, not the bridge's
            toll = u.acp_toll_number
            frees = list(u.acp_toll_free_numbers or [])
            toll_free = frees[0] if frees and u.toll_free_allowed else None
        else:
            toll_id = tolls[u.id]
            toll = nums.get(toll_id) if toll_id else None
            toll_free = (
                nums.get(u.toll_free_number_id) if u.toll_free_number_id and u.toll_free_allowed else None
            )
        locked = u.pin_locked_for_good or (u.pin_locked_until is not None and u.pin_locked_until > now)
        views.append(
            UserView(
                upn=u.upn,
                tenant=tenant.name,
                display_name=u.display_name,
                email=u.email,
                enabled=u.enabled,
                provider=u.provider,
                bridge=bridges[u.bridge_id].name,
                country=u.country,
                conference_id=conference_id,
                conference_id_display=display,
                toll_number=toll,
                toll_free_number=toll_free,
                toll_free_allowed=u.toll_free_allowed,
                pin_set=u.pin_hash is not None,
                pin_locked=bool(locked),
                third_party=third_party,
            )
        )
    return views


def user_view(uow: UnitOfWork, user: User) -> UserView:
    return user_views(uow, [user])[0]


@dataclass(frozen=True)
class PublicNumber:
    """A dial-in number as anyone may see it: no bridge, no default, nothing else about the tenant."""

    number: str  # E.164, for tel: links
    display: str
    toll_free: bool
    languages: list[str]  # the primary language first


@dataclass(frozen=True)
class PublicPlace:
    country: str | None  # ISO 3166 alpha-2
    city: str | None
    numbers: list[PublicNumber]


def public_dialin_numbers(uow: UnitOfWork, tenant: str) -> list[PublicPlace]:
    """The dial-in numbers of a tenant for its public page (no sign-in), grouped by country and city.

    The page every invitation links to ("find a local number"). It shows the numbers only; an unknown
    tenant is TenantNotFound, the same answer whether or not the name was ever used.
    """
    with uow.read():
        t = uow.session.scalars(select(Tenant).where(Tenant.name == tenant)).first()
        if t is None:
            raise TenantNotFound(tenant)
        places: dict[tuple[str, str], PublicPlace] = {}
        for n in uow.session.scalars(select(ServiceNumber).where(ServiceNumber.tenant_id == t.id)):
            country = n.country or numbers.country_of(n.e164)
            key = (country or "~", (n.city or "~").casefold())
            place = places.setdefault(key, PublicPlace(country=country, city=n.city, numbers=[]))
            place.numbers.append(
                PublicNumber(
                    number=n.e164,
                    display=numbers.international(n.e164),
                    toll_free=n.toll_free,
                    languages=[n.primary_language, *(n.secondary_languages or [])],
                )
            )
    for place in places.values():
        place.numbers.sort(key=lambda p: (p.toll_free, p.number))
    return [places[k] for k in sorted(places)]
