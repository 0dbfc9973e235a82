"""Reading the audit log."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Select, func, select

from dialconf.domain.roles import Actor, Permission, Role
from dialconf.services.common import get_tenant, newest_first_batches, normalise_upn, require
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
        if before is not None:
            query = query.where(AuditEvent.id < before)
        rows = uow.session.execute(query.order_by(AuditEvent.id.desc()).limit(limit))
        items = [_view(e, name) for e, name in rows]
        total = uow.session.scalar(
            select(func.count()).select_from(query.with_only_columns(AuditEvent.id).subquery())
        )
        return Page(items=items, total=total or 0)


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
