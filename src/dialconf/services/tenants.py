"""Tenants and their settings (DESIGN §1 'Tenant settings')."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from dialconf.domain.pins import validate_pin_length
from dialconf.domain.roles import Actor, Permission, Role
from dialconf.domain.text import clean_name
from dialconf.errors import AlreadyExists, Forbidden, InvalidInput, InvalidSetting
from dialconf.services.common import audit, get_tenant, require
from dialconf.services.views import TenantView
from dialconf.store.models import Bridge, Tenant
from dialconf.store.uow import UnitOfWork

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_QUARANTINE_DAYS = 3650
SETTINGS = (
    "conference_id_mode",
    "auto_email",
    "pin_length",
    "email_from_address",
    "email_from_name",
    "meeting_migration",
    "id_quarantine_days",
)


def validate_email(address: str, what: str = "email address") -> str:
    value = (address or "").strip()
    if not _EMAIL.match(value):
        raise InvalidInput(f"'{address}' is not a valid {what}")
    return value


def tenant_view(uow: UnitOfWork, tenant: Tenant) -> TenantView:
    bridges = uow.session.scalars(
        select(Bridge.name).where(Bridge.tenant_id == tenant.id).order_by(Bridge.id)
    )
    return TenantView(
        name=tenant.name,
        domain=tenant.domain,
        conference_id_mode=tenant.conference_id_mode,
        auto_email=tenant.auto_email,
        pin_length=tenant.pin_length,
        email_from_address=tenant.email_from_address,
        email_from_name=tenant.email_from_name,
        meeting_migration=tenant.meeting_migration,
        id_quarantine_days=tenant.id_quarantine_days,
        bridges=list(bridges),
    )


def _settings_of(tenant: Tenant) -> dict[str, Any]:
    return {key: getattr(tenant, key) for key in SETTINGS}


def create_tenant(uow: UnitOfWork, *, name: str, actor: Actor, domain: str | None = None) -> TenantView:
    """Create a tenant with the default settings (dynamic IDs, automatic email, 5-digit PINs)."""
    require(actor, Permission.MANAGE_TENANTS)
    if not _NAME.match(name or ""):
        raise InvalidInput(
            f"'{name}' is not a valid tenant name: use letters, digits, '.', '_' or '-', starting with a letter "
            "or digit, at most 100 characters"
        )
    with uow:
        if uow.session.scalars(select(Tenant).where(Tenant.name == name)).one_or_none() is not None:
            raise AlreadyExists(f"tenant '{name}' already exists")
        tenant = Tenant(
            name=name,
            domain=domain.strip().lower() if domain else None,
            conference_id_mode="dynamic",
            auto_email=True,
            pin_length=5,
            email_from_address=f"noreply@{domain.strip().lower()}" if domain else None,
            email_from_name=name,
            meeting_migration=True,
            id_quarantine_days=90,
            created_at=uow.now(),
        )
        uow.session.add(tenant)
        uow.session.flush()
        audit(uow, actor, "tenant.create", name, tenant_id=tenant.id, after=_settings_of(tenant))
        view = tenant_view(uow, tenant)
        uow.commit()
        return view


def show_tenant(uow: UnitOfWork, *, name: str, actor: Actor) -> TenantView:
    with uow.read():
        return tenant_view(uow, get_tenant(uow, name, actor))


def list_tenants(uow: UnitOfWork, *, actor: Actor) -> list[TenantView]:
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
) -> TenantView:
    """Change tenant settings; the conference ID mode is not among them (see `set_id_mode`)."""
    if pin_length is not None:
        validate_pin_length(pin_length)
    if id_quarantine_days is not None and not 0 <= id_quarantine_days <= MAX_QUARANTINE_DAYS:
        raise InvalidSetting(
            f"ID quarantine must be 0 to {MAX_QUARANTINE_DAYS} days, not {id_quarantine_days}"
        )
    if email_from_address is not None:
        email_from_address = validate_email(email_from_address, "sender address")
    if email_from_name is not None:
        email_from_name = clean_name(email_from_name)
        if not email_from_name or len(email_from_name) > 200:
            raise InvalidSetting("sender name must be 1 to 200 characters")
    with uow:
        tenant = get_tenant(uow, name, actor, Permission.MANAGE_SETTINGS)
        before = _settings_of(tenant)
        changes = {
            "auto_email": auto_email,
            "pin_length": pin_length,
            "email_from_address": email_from_address,
            "email_from_name": email_from_name.strip() if email_from_name else None,
            "meeting_migration": meeting_migration,
            "id_quarantine_days": id_quarantine_days,
        }
        for key, value in changes.items():
            if value is not None:
                setattr(tenant, key, value)
        after = _settings_of(tenant)
        if after != before:
            changed = [k for k in after if after[k] != before[k]]
            audit(
                uow,
                actor,
                "tenant.settings",
                name,
                tenant_id=tenant.id,
                before={k: before[k] for k in changed},
                after={k: after[k] for k in changed},
            )
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
