"""Two tenants reaching for one domain at the same moment on PostgreSQL: one gets it, the other a clear refusal."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from dialconf.errors import Conflict, DialconfError
from dialconf.services import tenants
from dialconf.store.db import make_engine
from dialconf.store.models import Tenant
from tests.conftest import make_uow
from tests.integration.builders import OPERATOR

pytestmark = pytest.mark.postgres


def _wait_until_blocked(url: str, deadline: float) -> None:
    """Return once some session waits on a lock (the unique index of tenant_domains), or fail."""
    engine = make_engine(url)
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                waiting = conn.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            if waiting:
                return
            time.sleep(0.02)
        pytest.fail("add-domain never waited for the other transaction's row")
    finally:
        engine.dispose()


def test_a_domain_taken_by_a_concurrent_transaction_is_refused_without_a_database_error(pg_url: str) -> None:
    uow = make_uow(pg_url)
    tenants.create_tenant(uow, name="contoso", actor=OPERATOR, domain="contoso.com")
    tenants.create_tenant(uow, name="fabrikam", actor=OPERATOR, domain="fabrikam.com")
    outcome: list[BaseException | object] = []

    def add() -> None:
        try:
            outcome.append(
                tenants.add_domain(make_uow(pg_url), name="contoso", domain="shared.com", actor=OPERATOR)
            )
        except BaseException as exc:  # whatever it is, the assertion below shows it
            outcome.append(exc)

    engine = make_engine(pg_url)
    try:
        with engine.connect() as other:
            # fabrikam takes the domain in a transaction that is still open when contoso asks for it
            fabrikam = other.scalar(select(Tenant.id).where(Tenant.name == "fabrikam"))
            other.execute(
                text(
                    "INSERT INTO tenant_domains (tenant_id, domain, created_at) VALUES (:t, 'shared.com', now())"
                ),
                {"t": fabrikam},
            )
            worker = threading.Thread(target=add)
            worker.start()
            _wait_until_blocked(pg_url, time.monotonic() + 30)
            other.commit()
        worker.join(timeout=30)
    finally:
        engine.dispose()

    [result] = outcome
    assert isinstance(result, Conflict), repr(result)
    assert isinstance(result, DialconfError)
    assert (
        result.message == "domain 'shared.com' cannot be added to tenant 'contoso': another tenant holds it"
    )
    shown = tenants.show_tenant(make_uow(pg_url), name="contoso", actor=OPERATOR)
    assert shown.domains == ["contoso.com"]
