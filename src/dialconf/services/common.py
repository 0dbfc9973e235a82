"""Helpers every use case shares: finding things within the actor's reach, checking roles, auditing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

from sqlalchemy import Row, Select, func, select

from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import BridgeNotFound, Forbidden, TenantNotFound, UserNotFound
from dialconf.services.views import Page
from dialconf.store.models import AuditEvent, Bridge, Tenant, User
from dialconf.store.uow import UnitOfWork


def require(actor: Actor, permission: Permission, tenant: Tenant | None = None) -> None:
    """Raise Forbidden unless `actor` may do `permission` (inside `tenant`, when given)."""
    if tenant is not None and actor.role is not Role.OPERATOR and actor.tenant_id != tenant.id:
        raise Forbidden(
            f"{actor.name} is {_article(actor.role)} {actor.role} of tenant '{actor.tenant_name}' "
            f"and may not act on tenant '{tenant.name}'"
        )
    if not actor.may(permission):
        if permission in (Permission.MANAGE_TENANTS, Permission.CREATE_BRIDGES):
            raise Forbidden(
                f"only the operator of this dialconf installation may {permission}; "
                f"{actor.name} is {_article(actor.role)} {actor.role}: ask the operator"
            )
        raise Forbidden(f"{actor.name} is {_article(actor.role)} {actor.role} and may not {permission}")


def _article(role: Role) -> str:
    return "an" if role in (Role.OPERATOR, Role.ADMIN) else "a"


def get_tenant(uow: UnitOfWork, name: str, actor: Actor, permission: Permission = Permission.VIEW) -> Tenant:
    """The tenant called `name`, if the actor may act on it; an admin never learns of other tenants.

    To an admin or helpdesk account every other tenant "does not exist", the same answer as for a
    name nobody holds (an API answers 404 for another tenant's objects, never a telling 403).
    """
    if actor.role is not Role.OPERATOR and name != actor.tenant_name:
        raise TenantNotFound(name)
    tenant = uow.session.scalars(select(Tenant).where(Tenant.name == name)).one_or_none()
    if tenant is None:
        raise TenantNotFound(name)
    require(actor, permission, tenant)
    return tenant


def get_user(uow: UnitOfWork, upn: str, actor: Actor, permission: Permission = Permission.VIEW) -> User:
    """The user with sign-in name `upn`, in a tenant the actor may act on."""
    user = uow.session.scalars(select(User).where(User.upn == normalise_upn(upn))).one_or_none()
    # a user of another tenant is reported as unknown: tenants never see each other
    if user is None or (actor.role is not Role.OPERATOR and user.tenant_id != actor.tenant_id):
        raise UserNotFound(upn)
    tenant = uow.session.get(Tenant, user.tenant_id)
    require(actor, permission, tenant)
    return user


def get_bridge(uow: UnitOfWork, tenant: Tenant, name: str | None = None) -> Bridge:
    """The tenant's bridge called `name`, or its first bridge when no name is given."""
    query = select(Bridge).where(Bridge.tenant_id == tenant.id).order_by(Bridge.id)
    if name:
        query = query.where(Bridge.name == name)
    bridge = uow.session.scalars(query).first()
    if bridge is None:
        if name is None:
            raise BridgeNotFound(tenant.name)
        raise BridgeNotFound(tenant.name, name)
    return bridge


def normalise_upn(upn: str) -> str:
    return upn.strip().lower()


def audit_values(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    target: str,
    *,
    tenant_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """One audit_events row as column values; callers pass no secrets, and PIN fields are masked here again."""
    return {
        "at": uow.now(),
        "tenant_id": tenant_id,
        "actor": actor.name,
        "action": action,
        "target": target,
        "before": _redact(before),
        "after": _redact(after),
        "detail": detail,
    }


def audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    target: str,
    *,
    tenant_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str | None = None,
) -> None:
    """Record who did what to whom (see audit_values)."""
    values = audit_values(
        uow, actor, action, target, tenant_id=tenant_id, before=before, after=after, detail=detail
    )
    uow.session.add(AuditEvent(**values))


_SECRET_KEYS = {"pin", "pin_hash", "password", "password_hash"}


def _redact(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: ("***" if k in _SECRET_KEYS and v is not None else v) for k, v in values.items()}


class _HasId(Protocol):
    @property
    def id(self) -> int: ...


ViewT = TypeVar("ViewT", bound=_HasId)


def newest_first_page(
    uow: UnitOfWork,
    query: Select[*tuple[Any, ...]],
    id_column: Any,
    view: Callable[[Row[*tuple[Any, ...]]], ViewT],
    *,
    limit: int,
    before: int | None,
) -> Page[ViewT]:
    """The newest `limit` rows of `query` (below id `before`, when given) as views, and how many match in all.

    Call inside the use case's read transaction; `total` counts the matches below `before` only.
    """
    if before is not None:
        query = query.where(id_column < before)
    rows = uow.session.execute(query.order_by(id_column.desc()).limit(limit))
    items = [view(row) for row in rows]
    total = uow.session.scalar(select(func.count()).select_from(query.with_only_columns(id_column).subquery()))
    return Page(items=items, total=total or 0)


def newest_first_batches(
    uow: UnitOfWork,
    query: Callable[[], Select[*tuple[Any, ...]]],
    id_column: Any,
    view: Callable[[Row[*tuple[Any, ...]]], ViewT],
    *,
    batch: int,
) -> Iterator[list[ViewT]]:
    """Every row of `query()`, newest (highest id) first, as views in batches: one short read each.

    Each batch is its own read transaction, continuing below the last id seen, so a whole log or
    outbox is listed without holding it in memory or a transaction open while it is printed.
    """
    before: int | None = None
    while True:
        with uow.read():
            page = query()
            if before is not None:
                page = page.where(id_column < before)
            rows = uow.session.execute(page.order_by(id_column.desc()).limit(batch))
            views = [view(row) for row in rows]
        if not views:
            return
        yield views
        if len(views) < batch:
            return
        before = views[-1].id
