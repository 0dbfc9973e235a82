"""Reading the audit log."""

from __future__ import annotations

from sqlalchemy import select

from dialconf.domain.roles import Actor, Role
from dialconf.services.common import get_tenant, normalise_upn
from dialconf.services.views import AuditView
from dialconf.store.models import AuditEvent, Tenant
from dialconf.store.uow import UnitOfWork


def list_audit(
    uow: UnitOfWork, *, actor: Actor, tenant: str | None = None, target: str | None = None, limit: int = 500
) -> list[AuditView]:
    with uow.read():
        query = select(AuditEvent, Tenant.name).outerjoin(Tenant, Tenant.id == AuditEvent.tenant_id)
        if tenant is not None:
            query = query.where(AuditEvent.tenant_id == get_tenant(uow, tenant, actor).id)
        elif actor.role is not Role.OPERATOR:
            query = query.where(AuditEvent.tenant_id == actor.tenant_id)
        if target is not None:
            query = query.where(AuditEvent.target.in_({target, normalise_upn(target)}))
        query = query.order_by(AuditEvent.id.desc()).limit(limit)
        return [
            AuditView(
                id=e.id,
                at=e.at,
                tenant=name,
                actor=e.actor,
                action=e.action,
                target=e.target,
                before=e.before,
                after=e.after,
                detail=e.detail,
            )
            for e, name in uow.session.execute(query)
        ]
