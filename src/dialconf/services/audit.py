"""Reading the audit log."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Select, select

from dialconf.domain.roles import Actor, Permission, Role
from dialconf.services.common import (
    get_tenant,
    newest_first_batches,
    newest_first_page,
    normalise_upn,
    require,
)
from dialconf.services.views import AuditView, Page
from dialconf.store.models import AuditEvent, Tenant
from dialconf.store.uow import UnitOfWork


def list_audit(
    uow: UnitOfWork,
    *,
    actor: Actor,
    tenant: str | None = None,
    target: str | None = None,
    limit: int = 500,
    before: int | None = None,
) -> Page[AuditView]:
    """The newest `limit` events (of a tenant, about a target), and how many match in all.

    `before` continues with the events older than that event id; `total` then counts only those.
    """
    with uow.read():
        query = _audit_query(uow, actor, tenant=tenant, target=target)
        return newest_first_page(
            uow, query, AuditEvent.id, lambda row: _view(row[0], row[1]), limit=limit, before=before
        )


def iter_audit(
    uow: UnitOfWork, *, actor: Actor, tenant: str | None = None, target: str | None = None, batch: int = 500
) -> Iterator[list[AuditView]]:
    """Every event list_audit would match, newest first, in batches: the whole log, never all in memory."""
    return newest_first_batches(
        uow,
        lambda: _audit_query(uow, actor, tenant=tenant, target=target),
        AuditEvent.id,
        lambda row: _view(row[0], row[1]),
        batch=batch,
    )


def _audit_query(
    uow: UnitOfWork, actor: Actor, *, tenant: str | None, target: str | None
) -> Select[AuditEvent, str]:
    require(actor, Permission.VIEW)  # a pbx account reads nothing, not even its tenant's log
    query = select(AuditEvent, Tenant.name).outerjoin(Tenant, Tenant.id == AuditEvent.tenant_id)
    if tenant is not None:
        query = query.where(AuditEvent.tenant_id == get_tenant(uow, tenant, actor).id)
    elif actor.role is not Role.OPERATOR:
        query = query.where(AuditEvent.tenant_id == actor.tenant_id)
    if target is not None:
        query = query.where(AuditEvent.target.in_({target, normalise_upn(target)}))
    return query


def _view(e: AuditEvent, tenant_name: str | None) -> AuditView:
    return AuditView(
        id=e.id,
        at=e.at,
        tenant=tenant_name,
        actor=e.actor,
        action=e.action,
        target=e.target,
        before=e.before,
        after=e.after,
        detail=e.detail,
    )
