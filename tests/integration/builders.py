"""Small keyword builders for service-level integration tests, and a clock the tests can move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update

from dialconf.domain.roles import Actor
from dialconf.services import bridges, tenants, users
from dialconf.services.views import UserView
from dialconf.store.models import Base, Bridge, ConferenceIdRow, Tenant
from dialconf.store.uow import UnitOfWork

OPERATOR = Actor.operator()
SEATTLE = "+14255550100"
TOLL_FREE = "+18005550199"


class FakeClock:
    """A clock for `make_uow(url, clock=...)` that only moves when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


def make_tenant(
    uow: UnitOfWork,
    name: str = "contoso",
    *,
    mode: str = "static",
    id_length: int = 7,
    bridge: str = "main",
    number: str = SEATTLE,
    toll_free: str | None = TOLL_FREE,
    **settings: Any,
) -> str:
    """A tenant with one bridge and a default toll number, in `mode`, with any settings changed."""
    tenants.create_tenant(uow, name=name, actor=OPERATOR, domain=f"{name}.com")
    bridges.create_bridge(uow, tenant=name, name=bridge, actor=OPERATOR, id_length=id_length)
    bridges.add_number(uow, tenant=name, number=number, actor=OPERATOR, bridge=bridge, city="Seattle")
    if toll_free:
        bridges.add_number(uow, tenant=name, number=toll_free, actor=OPERATOR, bridge=bridge, toll_free=True)
    if settings:
        tenants.update_settings(uow, name=name, actor=OPERATOR, **settings)
    if mode != "dynamic":
        tenants.set_id_mode(uow, name=name, mode=mode, actor=OPERATOR)
    return name


def make_user(
    uow: UnitOfWork, upn: str, *, tenant: str = "contoso", conference_id: str | None = None, **kwargs: Any
) -> UserView:
    """Enable a builtin user; returns its view (conference_id set in static mode)."""
    local = upn.split("@")[0]
    result = users.enable_user(
        uow,
        tenant=tenant,
        upn=upn,
        email=upn,
        name=local.title(),
        actor=OPERATOR,
        conference_id=conference_id,
        **kwargs,
    )
    assert result.user is not None
    return result.user


def get_bridge(uow: UnitOfWork, tenant: str = "contoso", name: str = "main") -> Bridge:
    with uow:
        bridge = uow.session.scalars(
            select(Bridge)
            .join(Tenant, Tenant.id == Bridge.tenant_id)
            .where(Tenant.name == tenant, Bridge.name == name)
        ).one()
        uow.session.expunge(bridge)
        return bridge


def fill_bridge(uow: UnitOfWork, bridge: Bridge, digits: list[str], *, state: str = "live") -> None:
    """Occupy `digits` on `bridge` directly (as meetings' IDs), keeping the bridge's in-use counter right."""
    with uow:
        now = uow.now()
        rows = [
            {
                "bridge_id": bridge.id,
                "digits": d,
                "state": state,
                "kind": "meeting",
                "chosen": False,
                "owner_user_id": None,
                "created_at": now,
                "released_at": now if state == "quarantined" else None,
                "quarantine_until": now + timedelta(days=90) if state == "quarantined" else None,
            }
            for d in digits
        ]
        if rows:
            uow.session.execute(insert(ConferenceIdRow), rows)
        uow.session.execute(
            update(Bridge).where(Bridge.id == bridge.id).values(ids_in_use=Bridge.ids_in_use + len(rows))
        )
        uow.commit()


def count_rows(uow: UnitOfWork, model: type[Base], *where: Any) -> int:
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
