"""The bulk paths (import, bulk ID reset) store exactly the outbox and audit rows the single-user path would.

The bulk paths write their rows through services/bulk.py (a raw executemany on SQLite, with each
column's own bind processing) and render emails through MailBuilder's shared layouts; here every
such row is compared, column by column as the database holds it, with the row the single-user
path (outbox.mail_info + queue_mail, common.audit through the ORM) writes for the same user and
values in the same transaction.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from dialconf.mail.compose import MailKind
from dialconf.services import importing, resets, users
from dialconf.services.common import audit
from dialconf.services.outbox import mail_info, queue_mail
from dialconf.store.models import AuditEvent, OutboxMail, Tenant, User
from dialconf.store.uow import UnitOfWork
from tests.conftest import make_uow
from tests.integration.builders import OPERATOR, FakeClock, make_tenant, make_user

# columns whose values differ between any two rows by design
_OWN = {"id", "message_id"}


def _raw(uow: UnitOfWork, table: str, row_id: int) -> dict[str, Any]:
    """A row as the database stores it, read without SQLAlchemy's type processing."""
    result = uow.session.connection().exec_driver_sql(f"SELECT * FROM {table} WHERE id = {int(row_id)}")
    return {k: v for k, v in dict(result.mappings().one()).items() if k not in _OWN}


def _last(uow: UnitOfWork, model: Any, *where: Any) -> int:
    return int(uow.session.scalars(select(model.id).where(*where).order_by(model.id.desc()).limit(1)).one())


def _compare(uow: UnitOfWork, bulk_mail: int, bulk_audit: int, single: tuple[OutboxMail, AuditEvent]) -> None:
    mail, event = single
    uow.session.flush()
    assert _raw(uow, "outbox", bulk_mail) == _raw(uow, "outbox", mail.id)
    assert _raw(uow, "audit_events", bulk_audit) == _raw(uow, "audit_events", event.id)


def _audit_row(uow: UnitOfWork, action: str, upn: str, tenant_id: int, **values: Any) -> AuditEvent:
    audit(uow, OPERATOR, action, upn, tenant_id=tenant_id, **values)
    uow.session.flush()
    found = uow.session.get(AuditEvent, _last(uow, AuditEvent, AuditEvent.target == upn))
    assert found is not None
    return found


def test_bulk_reset_rows_match_the_single_user_path(database_url: str) -> None:
    uow = make_uow(database_url, clock=FakeClock())
    make_tenant(uow, auto_email=True)
    make_user(uow, "ann@contoso.com")
    make_user(uow, "bob@contoso.com", country="US")
    users.enable_user(
        uow,
        tenant="contoso",
        upn="ohara@contoso.com",
        email="ohara@contoso.com",
        name="O'Hara & <Sons>",
        actor=OPERATOR,
    )

    results = resets.bulk_reset_conference_ids(uow, tenant="contoso", actor=OPERATOR)

    assert len(results) == 3
    with uow:
        tenant = uow.session.scalars(select(Tenant)).one()
        for r in results:
            user = uow.session.scalars(select(User).where(User.upn == r.upn)).one()
            bulk_mail = _last(uow, OutboxMail, OutboxMail.user_upn == r.upn)
            bulk_audit = _last(uow, AuditEvent, AuditEvent.target == r.upn)
            info = mail_info(
                uow,
                tenant,
                user,
                conference_id=r.conference_id,
                previous_conference_id=r.previous_conference_id,
            )
            mail = queue_mail(uow, tenant, user, MailKind.CONFERENCE_ID_CHANGED, info)
            event = _audit_row(
                uow,
                "user.reset_conference_id",
                r.upn,
                tenant.id,
                before={"conference_id": r.previous_conference_id},
                after={"conference_id": r.conference_id, "email_queued": True},
            )
            _compare(uow, bulk_mail, bulk_audit, (mail, event))
        uow.rollback()


def test_import_rows_match_the_single_user_path(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pins = iter(["1357913", "2468024", "9753197"])
    monkeypatch.setattr(importing, "generate_pin", lambda *_a, **_k: next(pins))
    uow = make_uow(database_url, clock=FakeClock())
    make_tenant(uow, auto_email=True)
    text = (
        "upn,email,name,country\n"
        "ann@contoso.com,ann@contoso.com,Ann,\n"
        "bob@contoso.com,bob.mail@contoso.com,Bob,US\n"
        "ohara@contoso.com,ohara@contoso.com,O'Hara & <Sons>,\n"
    )
    report = importing.import_users(uow, tenant="contoso", rows=importing.read_csv(text), actor=OPERATOR)
    assert report.imported == 3

    expected_pins = {
        "ann@contoso.com": "1357913",
        "bob@contoso.com": "2468024",
        "ohara@contoso.com": "9753197",
    }
    with uow:
        tenant = uow.session.scalars(select(Tenant)).one()
        for upn, pin in expected_pins.items():
            user = uow.session.scalars(select(User).where(User.upn == upn)).one()
            digits = (
                uow.session.connection()
                .exec_driver_sql(f"SELECT digits FROM conference_ids WHERE owner_user_id = {int(user.id)}")
                .scalar_one()
            )
            bulk_mail = _last(uow, OutboxMail, OutboxMail.user_upn == upn)
            bulk_audit = _last(uow, AuditEvent, AuditEvent.target == upn)
            info = mail_info(uow, tenant, user, conference_id=digits, pin=pin)
            mail = queue_mail(uow, tenant, user, MailKind.WELCOME, info)
            after = {
                "provider": "builtin",
                "bridge": "main",
                "conference_id": digits,
                "pin": "set",
                "email_queued": True,
                "source": "import",
            }
            event = _audit_row(uow, "user.enable", upn, tenant.id, after=after)
            _compare(uow, bulk_mail, bulk_audit, (mail, event))
            # the PIN never reaches the audit trail
            stored = uow.session.get(AuditEvent, bulk_audit)
            assert stored is not None and stored.after is not None and stored.after["pin"] == "***"
        uow.rollback()


def test_compose_fills_shared_layouts_as_a_direct_render_would() -> None:
    from dialconf.mail import compose as c

    base = c.MailInfo(
        org="Contoso",
        display_name="Ann",
        conference_id="123 456 7#",
        dynamic=False,
        toll=c.DialNumber(number="+1 425-555-0100", label="Seattle"),
        toll_free=c.DialNumber(number="+1 800-555-0199", label=""),
        all_numbers_url="http://localhost:8080/dialin/contoso",
        meeting_migration=True,
        extra={"reason": ""},
    )
    cases = [
        (c.MailKind.WELCOME, {"pin": "13579"}),
        (c.MailKind.WELCOME, {"display_name": 'O\'Hara & <Sons> "Ltd"', "pin": "24680"}),
        (c.MailKind.CONFERENCE_ID_CHANGED, {"previous_conference_id": "765 432 1#"}),
        (c.MailKind.CONFERENCE_ID_CHANGED, {"display_name": "Bob", "toll_free": None}),
        (c.MailKind.PIN_RESET, {"conference_id": None, "pin": "97531"}),
    ]
    env = c._env()
    for kind, changes in cases * 2:  # the second time round, from the cached layouts
        info = c.replace(base, **changes)
        composed = c.compose(kind, info)
        context = {"kind": kind.value, "info": info}
        assert composed.text == env.get_template(f"{kind.value}.txt").render(context)
        assert composed.html == env.get_template(f"{kind.value}.html").render(context)
