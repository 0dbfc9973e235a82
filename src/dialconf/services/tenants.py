"""Tenants and their settings (DESIGN §1 'Tenant settings')."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from dialconf.domain.pins import validate_pin_length
from dialconf.domain.roles import Actor, Permission, Role
from dialconf.domain.text import clean_name
from dialconf.errors import AlreadyExists, Conflict, Forbidden, InvalidInput, InvalidSetting
from dialconf.services import caldav_settings
from dialconf.services.common import audit, get_tenant, require
from dialconf.services.views import TenantView
from dialconf.store.models import AdminAccount, Bridge, Tenant, TenantDomain, User
from dialconf.store.uow import UnitOfWork

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# a DNS host name: labels of letters, digits and inner hyphens; the last one (the TLD) not all digits
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
MAX_QUARANTINE_DAYS = 3650
# below this, an old invitation may lead a caller into someone else's meeting: the operator's call
MIN_ADMIN_QUARANTINE_DAYS = 7
# how long after its last occurrence an ended meeting keeps its own conference ID (dynamic mode)
MAX_MEETING_ID_GRACE_DAYS = 365
SETTINGS = (
    "conference_id_mode",
    "auto_email",
    "pin_length",
    "email_from_address",
    "email_from_name",
    "meeting_migration",
    "id_quarantine_days",
    "meeting_id_grace_days",
    "dialin_caller_max_failures",
    "dialin_caller_window_minutes",
    "dialin_caller_lockout_minutes",
    "dialin_bridge_max_failures",
    "dialin_bridge_delay_seconds",
    "jitsi_muc_domain",
    "jitsi_max_rooms",
    "caldav_url",
    "caldav_username",
)
# the ranges of the auto attendant's guessing limits (docs/dialin-security.md)
DIALIN_LIMITS: dict[str, tuple[int, int, str]] = {
    "dialin_caller_max_failures": (1, 20, "wrong IDs a caller may enter before the lockout"),
    "dialin_caller_window_minutes": (1, 1440, "minutes a caller's wrong IDs are counted over"),
    "dialin_caller_lockout_minutes": (1, 10080, "minutes a caller stays locked out"),
    "dialin_bridge_max_failures": (10, 1_000_000, "wrong IDs per hour on a bridge before calls are slowed"),
    "dialin_bridge_delay_seconds": (0, 30, "seconds every call waits on a slowed bridge"),
    # the public Jitsi conference mapper creates rooms (each a live ID) for anyone who asks: a cap
    "jitsi_max_rooms": (0, 1_000_000, "Jitsi rooms the public conference mapper may create"),
}
_MUC_DOMAIN = re.compile(r"^(?=.{3,255}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def validate_email(address: str, what: str = "email address") -> str:
    value = (address or "").strip()
    if not _EMAIL.match(value):
        raise InvalidInput(f"'{address}' is not a valid {what}")
    return value


def validate_domain(text: str) -> str:
    """A domain such as contoso.com, in lower case; raise InvalidInput for anything else."""
    value = (text or "").strip().lower().removesuffix(".")
    labels = value.split(".")
    if (
        len(value) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidInput(
            f"'{text}' is not a valid domain: use a name such as contoso.com (letters, digits and '-' "
            "in dot-separated parts)"
        )
    return value


def domain_of(address: str) -> str:
    """The domain part of a sign-in name or an email address, in lower case."""
    return address.rpartition("@")[2].strip().lower()


def domains_of(uow: UnitOfWork, tenant: Tenant) -> list[str]:
    """The domains the tenant holds, its primary domain first, then in the order they were added."""
    held = list(
        uow.session.scalars(
            select(TenantDomain.domain).where(TenantDomain.tenant_id == tenant.id).order_by(TenantDomain.id)
        )
    )
    if tenant.domain in held:
        held.remove(tenant.domain)
        held.insert(0, tenant.domain)
    return held


def require_sign_in_domain(upn: str, tenant: Tenant, domains: Sequence[str]) -> None:
    """Refuse a sign-in name outside the tenant's domains; the same words whoever holds that domain."""
    if domain_of(upn) in domains:
        return
    if not domains:
        raise InvalidInput(
            f"tenant '{tenant.name}' has no domain yet, so no user can sign in to it; "
            f"ask the operator: dialconf tenant add-domain {tenant.name} DOMAIN"
        )
    raise InvalidInput(
        f"sign-in name '{upn}' must end in one of tenant '{tenant.name}''s domains: {', '.join(domains)}"
    )


def tenant_view(uow: UnitOfWork, tenant: Tenant) -> TenantView:
    bridges = uow.session.scalars(
        select(Bridge.name).where(Bridge.tenant_id == tenant.id).order_by(Bridge.id)
    )
    domains = domains_of(uow, tenant)
    return TenantView(
        name=tenant.name,
        domain=domains[0] if domains else None,
        domains=domains,
        conference_id_mode=tenant.conference_id_mode,
        auto_email=tenant.auto_email,
        pin_length=tenant.pin_length,
        email_from_address=tenant.email_from_address,
        email_from_name=tenant.email_from_name,
        meeting_migration=tenant.meeting_migration,
        id_quarantine_days=tenant.id_quarantine_days,
        meeting_id_grace_days=tenant.meeting_id_grace_days,
        dialin_caller_max_failures=tenant.dialin_caller_max_failures,
        dialin_caller_window_minutes=tenant.dialin_caller_window_minutes,
        dialin_caller_lockout_minutes=tenant.dialin_caller_lockout_minutes,
        dialin_bridge_max_failures=tenant.dialin_bridge_max_failures,
        dialin_bridge_delay_seconds=tenant.dialin_bridge_delay_seconds,
        jitsi_muc_domain=tenant.jitsi_muc_domain,
        jitsi_max_rooms=tenant.jitsi_max_rooms,
        caldav_url=tenant.caldav_url,
        caldav_username=tenant.caldav_username,
        caldav_connected=tenant.caldav_url is not None,
        bridges=list(bridges),
    )


def _settings_of(tenant: Tenant) -> dict[str, Any]:
    return {key: getattr(tenant, key) for key in SETTINGS}


def _valid_dialin_limits(limits: dict[str, int]) -> dict[str, int]:
    for key, value in limits.items():
        if key not in DIALIN_LIMITS:
            raise InvalidSetting(f"unknown dial-in setting '{key}'")
        low, high, what = DIALIN_LIMITS[key]
        if not low <= value <= high:
            raise InvalidSetting(f"{what} must be {low} to {high}, not {value}")
    return limits


def _valid_muc_domain(domain: str | None) -> str | None:
    if domain is None:
        return None
    folded = domain.strip().lower().rstrip(".")
    if folded and not _MUC_DOMAIN.match(folded):
        raise InvalidSetting(f"'{domain.strip()}' is not a domain name such as conference.meet.example.org")
    return folded


def create_tenant(
    uow: UnitOfWork,
    *,
    name: str,
    actor: Actor,
    domain: str | None = None,
    domains: Sequence[str] = (),
) -> TenantView:
    """Create a tenant holding one or more domains, with the default settings (dynamic IDs, email on)."""
    require(actor, Permission.MANAGE_TENANTS)
    if not _NAME.match(name or ""):
        raise InvalidInput(
            f"'{name}' is not a valid tenant name: use letters, digits, '.', '_' or '-', starting with a letter "
            "or digit, at most 100 characters"
        )
    wanted = list(dict.fromkeys(validate_domain(d) for d in [*([domain] if domain else []), *domains]))
    # a tenant may start without a domain; its users can be enabled once the operator adds one
    with uow:
        if uow.session.scalars(select(Tenant).where(Tenant.name == name)).one_or_none() is not None:
            raise AlreadyExists(f"tenant '{name}' already exists")
        tenant = Tenant(
            name=name,
            domain=wanted[0] if wanted else None,
            conference_id_mode="dynamic",
            auto_email=True,
            pin_length=5,
            email_from_address=f"noreply@{wanted[0]}" if wanted else None,
            email_from_name=name,
            meeting_migration=True,
            id_quarantine_days=90,
            created_at=uow.now(),
        )
        uow.session.add(tenant)
        uow.session.flush()
        for d in wanted:
            _hold_domain(uow, tenant, d)
        audit(
            uow,
            actor,
            "tenant.create",
            name,
            tenant_id=tenant.id,
            after={**_settings_of(tenant), "domains": wanted},
        )
        view = tenant_view(uow, tenant)
        uow.commit()
        return view


def _hold_domain(uow: UnitOfWork, tenant: Tenant, domain: str) -> None:
    """Give `domain` to `tenant`, or refuse without saying who holds it."""
    refused = Conflict(
        f"domain '{domain}' cannot be added to tenant '{tenant.name}': another tenant holds it"
    )
    holder = uow.session.scalar(select(TenantDomain.tenant_id).where(TenantDomain.domain == domain))
    if holder == tenant.id:
        raise AlreadyExists(f"tenant '{tenant.name}' already holds domain '{domain}'")
    if holder is not None:
        raise refused
    try:
        # a savepoint: a tenant that took the domain a moment ago trips the unique constraint, not the caller
        with uow.session.begin_nested():
            uow.session.add(TenantDomain(tenant_id=tenant.id, domain=domain, created_at=uow.now()))
    except IntegrityError as exc:
        raise refused from exc


def add_domain(uow: UnitOfWork, *, name: str, domain: str, actor: Actor) -> TenantView:
    """Let a tenant's users sign in with names in one more domain (operator only)."""
    require(actor, Permission.MANAGE_TENANTS)
    domain = validate_domain(domain)
    with uow:
        tenant = get_tenant(uow, name, actor, Permission.MANAGE_TENANTS)
        _hold_domain(uow, tenant, domain)
        if tenant.domain is None:
            tenant.domain = domain
        audit(uow, actor, "tenant.add_domain", name, tenant_id=tenant.id, after={"domain": domain})
        view = tenant_view(uow, tenant)
        uow.commit()
        return view


def remove_domain(uow: UnitOfWork, *, name: str, domain: str, actor: Actor) -> TenantView:
    """Give up a domain nobody signs in or sends mail with any more (operator only)."""
    require(actor, Permission.MANAGE_TENANTS)
    domain = validate_domain(domain)
    with uow:
        tenant = get_tenant(uow, name, actor, Permission.MANAGE_TENANTS)
        row = uow.session.scalars(
            select(TenantDomain).where(TenantDomain.tenant_id == tenant.id, TenantDomain.domain == domain)
        ).one_or_none()
        if row is None:
            raise InvalidInput(f"tenant '{name}' does not hold domain '{domain}'")
        held = domains_of(uow, tenant)
        if len(held) == 1:
            raise Conflict(
                f"'{domain}' is the only domain of tenant '{name}'; add another first "
                f"(dialconf tenant add-domain {name} DOMAIN)"
            )
        suffix = "@" + domain
        users = uow.session.scalar(
            select(func.count()).select_from(User).where(User.upn.endswith(suffix, autoescape=True))
        )
        admins = uow.session.scalar(
            select(func.count())
            .select_from(AdminAccount)
            .where(AdminAccount.email.endswith(suffix, autoescape=True))
        )
        if users or admins:
            who = " and ".join(
                part
                for part in (
                    f"{users} user(s)" if users else "",
                    f"{admins} admin account(s)" if admins else "",
                )
                if part
            )
            raise Conflict(f"{who} still sign in with domain '{domain}'; it stays with tenant '{name}'")
        if domain_of(tenant.email_from_address or "") == domain:
            raise Conflict(
                f"tenant '{name}' sends its mail from {tenant.email_from_address}; choose another sender first "
                f"(dialconf tenant set {name} --email-from ADDR)"
            )
        uow.session.delete(row)
        uow.session.flush()
        if tenant.domain == domain:
            tenant.domain = next(d for d in held if d != domain)
        audit(uow, actor, "tenant.remove_domain", name, tenant_id=tenant.id, before={"domain": domain})
        view = tenant_view(uow, tenant)
        uow.commit()
        return view


def show_tenant(uow: UnitOfWork, *, name: str, actor: Actor) -> TenantView:
    with uow.read():
        return tenant_view(uow, get_tenant(uow, name, actor))


def list_tenants(uow: UnitOfWork, *, actor: Actor) -> list[TenantView]:
    require(actor, Permission.VIEW)
    with uow.read():
        query = select(Tenant).order_by(Tenant.name)
        if actor.role is not Role.OPERATOR:
            query = query.where(Tenant.id == actor.tenant_id)
        return [tenant_view(uow, t) for t in uow.session.scalars(query)]


def update_settings(
    uow: UnitOfWork,
    *,
    name: str,
    actor: Actor,
    auto_email: bool | None = None,
    pin_length: int | None = None,
    email_from_address: str | None = None,
    email_from_name: str | None = None,
    meeting_migration: bool | None = None,
    id_quarantine_days: int | None = None,
    meeting_id_grace_days: int | None = None,
    dialin_limits: dict[str, int] | None = None,
    jitsi_muc_domain: str | None = None,
    caldav_url: str | None = None,
    caldav_username: str | None = None,
    caldav_password: str | None = None,
) -> TenantView:
    """Change tenant settings; the conference ID mode is not among them (see `set_id_mode`).

    `dialin_limits` takes any of DIALIN_LIMITS; `jitsi_muc_domain` ("" clears it) is the operator's.
    `caldav_url` ("" disconnects), `caldav_username` and `caldav_password`: see caldav_settings.apply.
    """
    limits = _valid_dialin_limits(dialin_limits or {})
    muc_domain = _valid_muc_domain(jitsi_muc_domain)
    if pin_length is not None:
        validate_pin_length(pin_length)
    if id_quarantine_days is not None and not 0 <= id_quarantine_days <= MAX_QUARANTINE_DAYS:
        raise InvalidSetting(
            f"ID quarantine must be 0 to {MAX_QUARANTINE_DAYS} days, not {id_quarantine_days}"
        )
    if meeting_id_grace_days is not None and not 0 <= meeting_id_grace_days <= MAX_MEETING_ID_GRACE_DAYS:
        raise InvalidSetting(
            f"meeting ID grace must be 0 to {MAX_MEETING_ID_GRACE_DAYS} days, not {meeting_id_grace_days}"
        )
    if email_from_address is not None:
        email_from_address = validate_email(email_from_address, "sender address")
    if email_from_name is not None:
        email_from_name = clean_name(email_from_name)
        if not email_from_name or len(email_from_name) > 200:
            raise InvalidSetting("sender name must be 1 to 200 characters")
    # looked up before the transaction opens: a slow name server holds no database lock
    internal_url = (
        bool(caldav_url) and actor.role is not Role.OPERATOR and caldav_settings.is_internal(caldav_url or "")
    )
    with uow:
        tenant = get_tenant(uow, name, actor, Permission.MANAGE_SETTINGS)
        operator = actor.role is Role.OPERATOR
        if id_quarantine_days is not None and id_quarantine_days < MIN_ADMIN_QUARANTINE_DAYS and not operator:
            raise Forbidden(
                f"only the operator of this dialconf installation may set the ID quarantine below "
                f"{MIN_ADMIN_QUARANTINE_DAYS} days (an old invitation could reach someone else's meeting); "
                "ask the operator"
            )
        if email_from_address is not None and not operator:
            domains = domains_of(uow, tenant)
            if domain_of(email_from_address) not in domains:
                raise Forbidden(
                    f"sender address '{email_from_address}' must be in one of tenant '{name}''s domains: "
                    f"{', '.join(domains)}; only the operator may choose another"
                )
        if jitsi_muc_domain is not None and not operator:
            raise Forbidden("only the operator may set the Jitsi MUC domain of a tenant")
        if muc_domain:
            holder = uow.session.scalar(select(Tenant.id).where(Tenant.jitsi_muc_domain == muc_domain))
            if holder is not None and holder != tenant.id:
                raise Conflict(f"Jitsi MUC domain '{muc_domain}' cannot be given to tenant '{name}': it is taken")
        # a URL given again as it is (the settings page sends it with every change) is no new target
        new_url = caldav_url is not None and caldav_url.strip() != (tenant.caldav_url or "")
        if new_url and internal_url:
            # the server would call it for the tenant: a tenant's admin must not reach the operator's network
            raise Forbidden(
                "only the operator may connect a CalDAV calendar on this machine or a private address; "
                "give the calendar's public name"
            )
        before = _settings_of(tenant)
        had_password = tenant.caldav_password is not None
        password_changed = caldav_settings.apply(
            uow, tenant, url=caldav_url, username=caldav_username, password=caldav_password
        )
        if new_url or (operator and caldav_url is not None):
            # the operator's, once the operator has given it (even unchanged); an admin's new URL is not
            tenant.caldav_url_by_operator = operator and tenant.caldav_url is not None
        if jitsi_muc_domain is not None:
            tenant.jitsi_muc_domain = muc_domain or None
        for limit, number in limits.items():
            setattr(tenant, limit, number)
        changes = {
            "auto_email": auto_email,
            "pin_length": pin_length,
            "email_from_address": email_from_address,
            "email_from_name": email_from_name.strip() if email_from_name else None,
            "meeting_migration": meeting_migration,
            "id_quarantine_days": id_quarantine_days,
            "meeting_id_grace_days": meeting_id_grace_days,
        }
        for key, value in changes.items():
            if value is not None:
                setattr(tenant, key, value)
        after = _settings_of(tenant)
        if after != before or password_changed:
            changed = [k for k in after if after[k] != before[k]]
            before, after = {k: before[k] for k in changed}, {k: after[k] for k in changed}
            if password_changed:  # that it changed, never what it is
                before["caldav_password"] = "***" if had_password else None
                after["caldav_password"] = "***" if tenant.caldav_password is not None else None
            audit(uow, actor, "tenant.settings", name, tenant_id=tenant.id, before=before, after=after)
        view = tenant_view(uow, tenant)
        uow.commit()
        return view


def set_id_mode(uow: UnitOfWork, *, name: str, mode: str, actor: Actor) -> TenantView:
    """Switch a tenant between static and dynamic conference IDs; only the operator may."""
    if mode not in ("static", "dynamic"):
        raise InvalidSetting(f"conference ID mode must be 'static' or 'dynamic', not '{mode}'")
    if not actor.may(Permission.MANAGE_TENANTS):
        raise Forbidden(
            "only the operator of this dialconf installation may change the conference ID mode; "
            "ask your operator to run: dialconf tenant set-id-mode " + name + " " + mode
        )
    # local import: users imports tenants for validate_email
    from dialconf.services.users import apply_mode_change

    with uow:
        tenant = get_tenant(uow, name, actor, Permission.MANAGE_TENANTS)
        before = tenant.conference_id_mode
        if before != mode:
            tenant.conference_id_mode = mode
            changed = apply_mode_change(uow, tenant, actor)
            audit(
                uow,
                actor,
                "tenant.id_mode",
                name,
                tenant_id=tenant.id,
                before={"conference_id_mode": before},
                after={"conference_id_mode": mode},
                detail=f"{changed} users changed",
            )
        view = tenant_view(uow, tenant)
        uow.commit()
        return view
