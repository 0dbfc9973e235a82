"""Emails written to the outbox in the same transaction as the change that causes them (DESIGN §5)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, select

from dialconf.domain import numbers
from dialconf.domain.ids import format_for_callers
from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import MailNotFound
from dialconf.mail.compose import CARRIES_PIN, DialNumber, MailInfo, MailKind, ThirdParty, compose, mask_pin
from dialconf.services.common import get_tenant, newest_first_batches, newest_first_page, require
from dialconf.services.directory import own_or_bridge_toll
from dialconf.services.views import MailDetail, MailView, Page
from dialconf.store.models import OutboxMail, ServiceNumber, Tenant, User
from dialconf.store.uow import UnitOfWork

REDACTED_NOTE = "[This message carried a PIN. Its body was removed from the outbox once it was delivered.]"
REDACTED_FAILED_NOTE = (
    "[This message carried a PIN. Its body was removed from the outbox when its delivery failed; "
    "reset the PIN again to send the user a new one.]"
)


def wants_email(tenant: Tenant, email: bool | None) -> bool:
    """An explicit --email/--no-email wins; otherwise the tenant's auto_email setting decides."""
    return tenant.auto_email if email is None else email


def _dial_number(row: ServiceNumber | None) -> DialNumber | None:
    if row is None:
        return None
    return DialNumber(number=numbers.international(row.e164), label=row.city or row.country or "")


def mail_info(
    uow: UnitOfWork,
    tenant: Tenant,
    user: User,
    *,
    conference_id: str | None,
    pin: str | None = None,
    previous_conference_id: str | None = None,
    reason: str = "",
    numbers_cache: dict[int, ServiceNumber] | None = None,
) -> MailInfo:
    def number(number_id: int | None) -> ServiceNumber | None:
        if number_id is None:
            return None
        if numbers_cache is not None:
            if number_id not in numbers_cache:
                found = uow.session.get(ServiceNumber, number_id)
                if found is None:
                    return None
                numbers_cache[number_id] = found
            return numbers_cache[number_id]
        return uow.session.get(ServiceNumber, number_id)

    third_party = None
    if user.provider == "third-party":
        third_party = ThirdParty(
            provider_name=user.acp_provider_name or "",
            toll_number=numbers.international(user.acp_toll_number) if user.acp_toll_number else "",
            toll_free_numbers=[numbers.international(n) for n in (user.acp_toll_free_numbers or [])],
            participant_passcode=user.acp_participant_passcode or "",
            url=user.acp_url,
        )
    return MailInfo(
        org=tenant.email_from_name or tenant.name,
        display_name=user.display_name,
        conference_id=format_for_callers(conference_id) if conference_id else None,
        dynamic=tenant.conference_id_mode == "dynamic" and user.provider == "builtin",
        toll=_dial_number(number(own_or_bridge_toll(uow, user))),
        toll_free=_dial_number(number(user.toll_free_number_id)) if user.toll_free_allowed else None,
        all_numbers_url=f"{uow.public_url.rstrip('/')}/dialin/{tenant.name}",
        meeting_migration=tenant.meeting_migration,
        pin=pin,
        previous_conference_id=format_for_callers(previous_conference_id) if previous_conference_id else None,
        third_party=third_party,
        extra={"reason": reason},
    )


def new_message_id(domain: str) -> str:
    """A unique Message-ID that sorts by time, so a bulk change appends to its index instead of scattering."""
    return f"<{time.time_ns():x}.{secrets.token_hex(8)}@{domain}>"


def mail_values(
    uow: UnitOfWork, tenant: Tenant, user: User, kind: MailKind, info: MailInfo, *, to: str | None = None
) -> dict[str, Any]:
    """The outbox row of one rendered email, as column values."""
    composed = compose(kind, info)
    now = uow.now()
    domain = (tenant.email_from_address or "").rpartition("@")[2] or tenant.domain or "dialconf.invalid"
    return {
        "tenant_id": tenant.id,
        "user_upn": user.upn,
        "kind": kind.value,
        "to_addr": to or user.email,
        "from_addr": tenant.email_from_address or f"noreply@{tenant.domain or 'dialconf.invalid'}",
        "from_name": tenant.email_from_name or tenant.name,
        "subject": composed.subject,
        "body_text": composed.text,
        "body_html": composed.html,
        "ics": None,
        "carries_pin": kind in CARRIES_PIN and info.pin is not None,
        "redacted": False,
        "message_id": new_message_id(domain),
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def queue_mail(
    uow: UnitOfWork, tenant: Tenant, user: User, kind: MailKind, info: MailInfo, *, to: str | None = None
) -> OutboxMail:
    """Render and queue one email; it is committed (or rolled back) with the change that caused it."""
    row = OutboxMail(**mail_values(uow, tenant, user, kind, info, to=to))
    uow.session.add(row)
    return row


def queue_invitation(
    uow: UnitOfWork,
    tenant: Tenant,
    *,
    kind: str,
    organizer_upn: str,
    to: str,
    subject: str,
    body_text: str,
    body_html: str,
    ics: str,
) -> OutboxMail:
    """Queue one meeting invitation (or cancellation) to one attendee, with its .ics attached."""
    now = uow.now()
    domain = (tenant.email_from_address or "").rpartition("@")[2] or tenant.domain or "dialconf.invalid"
    row = OutboxMail(
        tenant_id=tenant.id,
        user_upn=organizer_upn,
        kind=kind,
        to_addr=to,
        from_addr=tenant.email_from_address or f"noreply@{tenant.domain or 'dialconf.invalid'}",
        from_name=tenant.email_from_name or tenant.name,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        ics=ics,
        carries_pin=False,
        redacted=False,
        message_id=new_message_id(domain),
        status="queued",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    uow.session.add(row)
    return row


def _view(row: OutboxMail, tenant_name: str | None) -> MailView:
    return MailView(
        id=row.id,
        tenant=tenant_name,
        kind=row.kind,
        to=row.to_addr,
        from_=f"{row.from_name} <{row.from_addr}>" if row.from_name else row.from_addr,
        subject=row.subject,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        message_id=row.message_id,
    )


def list_mail(
    uow: UnitOfWork,
    *,
    actor: Actor,
    tenant: str | None = None,
    status: str | None = None,
    limit: int = 200,
    before: int | None = None,
) -> Page[MailView]:
    """The newest `limit` emails (of a tenant, with a status), and how many match in all.

    `before` continues with the emails older than that mail id; `total` then counts only those.
    """
    require(actor, Permission.VIEW)
    with uow.read():
        query = _mail_query(uow, actor, tenant=tenant, status=status)
        return newest_first_page(
            uow, query, OutboxMail.id, lambda row: _view(row[0], row[1]), limit=limit, before=before
        )


def iter_mail(
    uow: UnitOfWork, *, actor: Actor, tenant: str | None = None, status: str | None = None, batch: int = 500
) -> Iterator[list[MailView]]:
    """Every email list_mail would match, newest first, in batches: the whole outbox, never all in memory."""
    require(actor, Permission.VIEW)
    return newest_first_batches(
        uow,
        lambda: _mail_query(uow, actor, tenant=tenant, status=status),
        OutboxMail.id,
        lambda row: _view(row[0], row[1]),
        batch=batch,
    )


def _mail_query(
    uow: UnitOfWork, actor: Actor, *, tenant: str | None, status: str | None
) -> Select[OutboxMail, str]:
    query = select(OutboxMail, Tenant.name).outerjoin(Tenant, Tenant.id == OutboxMail.tenant_id)
    if tenant is not None:
        query = query.where(OutboxMail.tenant_id == get_tenant(uow, tenant, actor, Permission.VIEW).id)
    elif actor.role is not Role.OPERATOR:
        query = query.where(OutboxMail.tenant_id == actor.tenant_id)
    if status is not None:
        query = query.where(OutboxMail.status == status)
    return query


def show_mail(uow: UnitOfWork, *, mail_id: int, actor: Actor) -> MailDetail:
    require(actor, Permission.VIEW)
    with uow.read():
        row = uow.session.get(OutboxMail, mail_id)
        if row is None or (actor.role is not Role.OPERATOR and row.tenant_id != actor.tenant_id):
            raise MailNotFound(mail_id)
        tenant = uow.session.get(Tenant, row.tenant_id) if row.tenant_id else None
        view = _view(row, tenant.name if tenant else None)
        text, html = _visible_body(row)
        return MailDetail(
            **{k: getattr(view, k) for k in view.__dataclass_fields__},
            body_text=text,
            body_html=html,
            redacted=row.redacted,
        )


def _visible_body(row: OutboxMail) -> tuple[str, str]:
    """What anyone may read of a mail's body: a PIN is only ever for the recipient, so it is masked."""
    if row.redacted:
        note = REDACTED_FAILED_NOTE if row.status == "failed" else REDACTED_NOTE
        return note, note
    return mask_pin(row.body_text), mask_pin(row.body_html)
