"""Reset the leader PINs of many users at once: reset_pin for a whole tenant, in committed chunks (DESIGN §3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from dialconf.domain import numbers
from dialconf.domain.pins import generate_pin, hash_pin
from dialconf.domain.roles import Actor
from dialconf.mail.compose import MailKind
from dialconf.services.bulk import MailBuilder, insert_rows
from dialconf.services.common import audit_values
from dialconf.services.conference_ids import live_static_ids
from dialconf.services.outbox import wants_email
from dialconf.services.resets import Progress, bulk_targets, in_chunks
from dialconf.services.views import BulkPlan, PinResetResult
from dialconf.store.models import AuditEvent, OutboxMail, Tenant, User
from dialconf.store.uow import UnitOfWork


def bulk_reset_pins(
    uow: UnitOfWork,
    *,
    tenant: str,
    actor: Actor,
    search: str | None = None,
    send_email: bool | None = None,
    progress: Progress | None = None,
    plan: BulkPlan | None = None,
) -> list[PinResetResult]:
    """Give every enabled builtin user of a tenant (matching `search`) a new PIN, mailed when email is on.

    The results hold the new PINs, the only place they are ever shown. Each chunk is one
    transaction: an interruption leaves every user with either the old PIN or a new one and its email.
    With a `plan` (resets.plan_bulk_reset, as confirmed), only the users in it are reset.
    """
    tenant_id, ids = bulk_targets(uow, tenant=tenant, actor=actor, search=search, plan=plan)

    def reset_chunk(t: Tenant, chunk: list[int]) -> list[PinResetResult]:
        users = list(uow.session.scalars(select(User).where(User.id.in_(chunk)).order_by(User.id)))
        return _reset_chunk(uow, t, users, actor, send_email=send_email)

    return in_chunks(uow, tenant_id, ids, reset_chunk, progress)


def _reset_chunk(
    uow: UnitOfWork, tenant: Tenant, users: list[User], actor: Actor, *, send_email: bool | None
) -> list[PinResetResult]:
    """resets.reset_pin for each user of a chunk, with a few statements for the whole chunk."""
    now = uow.now()
    key = uow.pin_key  # once per chunk: the embedded default reads it from a file
    queued = wants_email(tenant, send_email)
    conference_ids = live_static_ids(uow, [u.id for u in users]) if queued else {}
    mailer = MailBuilder(uow, tenant, MailKind.PIN_RESET)
    hashes, mails, audits, results = [], [], [], []
    for user in users:
        pin = generate_pin(uow.rng, tenant.pin_length, phone_digits=numbers.digits_of(user.phone or ""))
        was_locked = user.pin_locked_for_good or user.pin_locked_until is not None
        hashes.append({"user_id": user.id, "new_hash": hash_pin(key, user.upn, pin)})
        if queued:
            mails.append(mailer.values(user, conference_id=conference_ids.get(user.id), pin=pin))
        audits.append(
            audit_values(
                uow,
                actor,
                "user.reset_pin",
                user.upn,
                tenant_id=tenant.id,
                after={"pin": "reset", "unlocked": was_locked, "email_queued": queued},
            )
        )
        results.append(PinResetResult(upn=user.upn, pin=pin, email_queued=queued))
    _store_pins(uow, [u.id for u in users], hashes, now, pin_length=tenant.pin_length)
    insert_rows(uow, OutboxMail, mails)
    insert_rows(uow, AuditEvent, audits)
    return results


def _store_pins(
    uow: UnitOfWork, user_ids: list[int], hashes: list[dict[str, Any]], now: datetime, *, pin_length: int
) -> None:
    """users._store_pin for a chunk: the new hashes, and the failure counters and any lockout cleared."""
    users = cast(Table, User.__table__)
    uow.session.execute(
        update(users).where(users.c.id == bindparam("user_id")).values(pin_hash=bindparam("new_hash")), hashes
    )
    # synchronize_session=False: the chunk's loaded users are not read again, and matching each of
    # them against the IN list (the default) would be quadratic in the chunk size
    uow.session.execute(
        update(User)
        .where(User.id.in_(user_ids))
        .values(
            pin_set_at=now,
            pin_length=pin_length,
            pin_failures_in_window=0,
            pin_window_started=None,
            pin_total_failures=0,
            pin_locked_until=None,
            pin_locked_for_good=False,
            updated_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
