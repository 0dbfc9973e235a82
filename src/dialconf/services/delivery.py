"""Deliver the outbox: claim the messages that are due, hand them to a mail transport, record the outcome.

A message moves  queued -> sending -> sent | queued (deferred, with backoff) | failed.

Claiming sets `sending` and a lease (`locked_until`) in one short transaction; on PostgreSQL the
claim reads with `FOR UPDATE SKIP LOCKED`, so several workers take disjoint batches, and on SQLite
the claim runs under the database write lock. A worker that dies mid-batch leaves its messages
`sending`; once the lease has run out, any worker claims them again (at-least-once delivery). Every
outcome is written only while the lease it was claimed with is still the row's lease, so a worker
that lost its lease cannot overwrite what another one recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from typing import Any

from sqlalchemy import bindparam, select, update

from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import Conflict, MailNotFound
from dialconf.mail.message import Envelope, envelope_for, render_message
from dialconf.mail.smtp import MailTransport, PermanentFailure, ServerUnavailable, TemporaryFailure
from dialconf.services.common import audit, require
from dialconf.services.outbox import show_mail
from dialconf.services.views import MailDetail, View
from dialconf.store.db import purge_erased
from dialconf.store.models import OutboxMail, Tenant
from dialconf.store.uow import UnitOfWork


@dataclass(frozen=True)
class DeliveryPolicy:
    """How many messages a claim takes, how long it holds them, and how often a message is tried."""

    batch_size: int = 50
    max_attempts: int = 10
    first_retry: timedelta = timedelta(minutes=1)
    max_retry: timedelta = timedelta(hours=2)
    lease: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.max_attempts < 1:
            raise ValueError("batch_size and max_attempts must be at least 1")
        if self.lease <= timedelta(0) or self.first_retry <= timedelta(0):
            raise ValueError("lease and first_retry must be positive")


def retry_delay(attempts: int, policy: DeliveryPolicy, rng: Random) -> timedelta:
    """Exponential backoff with jitter: after try n, wait between half and all of first_retry * 2**(n-1)."""
    ceiling = min(policy.max_retry, policy.first_retry * (1 << max(0, min(attempts - 1, 30))))
    jitter: float = rng.random()
    return ceiling / 2 + ceiling / 2 * jitter


@dataclass
class PassResult(View):
    """What one pass over the due messages did."""

    sent: int = 0
    deferred: int = 0
    failed: int = 0
    not_attempted: int = 0  # claimed, then handed back untried (server unavailable, or stopping)
    server_error: str | None = None

    @property
    def handled(self) -> int:
        return self.sent + self.deferred + self.failed


@dataclass(frozen=True)
class _Outgoing:
    id: int
    attempts: int  # counting this one
    carries_pin: bool
    lease: datetime
    claimed_at: float  # time.monotonic() of the claim
    envelope: Envelope


@dataclass
class _Outcomes:
    sent: list[dict[str, Any]] = field(default_factory=list)
    sent_redacted: list[dict[str, Any]] = field(default_factory=list)
    deferred: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    failed_redacted: list[dict[str, Any]] = field(default_factory=list)
    released: list[dict[str, Any]] = field(default_factory=list)


def _claim(uow: UnitOfWork, *, policy: DeliveryPolicy, cutoff: datetime) -> list[_Outgoing]:
    """Take up to batch_size due messages for this worker, each counted as one more try."""
    with uow:
        now, claimed_at = uow.now(), time.monotonic()
        # first the claims whose lease ran out (their worker died or hung): few, and overdue
        rows = list(
            uow.session.scalars(
                select(OutboxMail)
                .where(OutboxMail.status == "sending", OutboxMail.locked_until < now)
                .limit(policy.batch_size)
                .with_for_update(skip_locked=True)
            )
        )
        worn_out = [r for r in rows if r.attempts >= policy.max_attempts]
        erased = False
        for carries_pin in (False, True):
            ids = [r.id for r in worn_out if r.carries_pin is carries_pin]
            if not ids:
                continue
            # a message whose every try ended with its worker gone (say, one that crashes it) stops here
            error = f"gave up after {policy.max_attempts} tries: the worker stopped while sending it"
            uow.session.execute(
                update(OutboxMail)
                .where(OutboxMail.id.in_(ids))
                .values(
                    status="failed",
                    locked_until=None,
                    last_error=error + PIN_ERASED if carries_pin else error,
                    **(_ERASED if carries_pin else {}),
                )
                .execution_options(synchronize_session=False)
            )
            erased = erased or carries_pin
        rows = [r for r in rows if r.attempts < policy.max_attempts]
        if len(rows) < policy.batch_size:
            # then queued mail, oldest due first; the (status, next_attempt_at) index yields this
            # order directly, so a claim reads only the rows it takes however long the queue is
            rows += uow.session.scalars(
                select(OutboxMail)
                .where(OutboxMail.status == "queued", OutboxMail.next_attempt_at <= cutoff)
                .order_by(OutboxMail.next_attempt_at)
                .limit(policy.batch_size - len(rows))
                .with_for_update(skip_locked=True)
            )
        if not rows:
            uow.commit()
            if erased:
                purge_erased(uow.session.get_bind())
            return []
        lease = now + policy.lease
        uow.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id.in_([r.id for r in rows]))
            .values(status="sending", locked_until=lease, attempts=OutboxMail.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
    if erased:
        purge_erased(uow.session.get_bind())
    # render outside the transaction (on SQLite the claim holds the database's write lock); the
    # rows stay readable after the commit, their attempts as read before this claim
    claimed = []
    for r in rows:
        envelope = envelope_for(message_bytes(r), envelope_from=r.from_addr, to_addr=r.to_addr)
        claimed.append(_Outgoing(r.id, r.attempts + 1, r.carries_pin, lease, claimed_at, envelope))
    return claimed


def message_bytes(row: OutboxMail) -> bytes:
    """The exact bytes sent for an outbox row (the same on every try: Message-ID and Date are the row's)."""
    return render_message(
        from_addr=row.from_addr,
        from_name=row.from_name,
        to_addr=row.to_addr,
        subject=row.subject,
        message_id=row.message_id,
        date=row.created_at,
        body_text=row.body_text,
        body_html=row.body_html,
        ics=row.ics,
    )


# a PIN mail that was delivered or failed for good keeps no copy of the PIN: the user has it, or
# the admin must reset the PIN again; only a mail still to be tried holds its body
_ERASED: dict[str, Any] = {"body_text": "", "body_html": "", "redacted": True}
PIN_ERASED = "; the PIN it carried was erased: reset the PIN again to send a new one"


def _fenced(**values: Any) -> Any:
    """An UPDATE of one claimed row that only applies while the row still holds our lease."""
    return (
        update(OutboxMail.__table__)  # type: ignore[arg-type]
        .where(
            OutboxMail.__table__.c.id == bindparam("b_id"),
            OutboxMail.__table__.c.status == "sending",
            OutboxMail.__table__.c.locked_until == bindparam("b_lease"),
        )
        .values(**values)
    )


def _record(uow: UnitOfWork, outcomes: _Outcomes) -> None:
    """Write every outcome of a batch in one transaction."""
    table = OutboxMail.__table__
    with uow:
        conn = uow.session.connection()
        if outcomes.sent:
            conn.execute(_fenced(status="sent", sent_at=bindparam("b_at"), locked_until=None), outcomes.sent)
        if outcomes.sent_redacted:
            # the PIN must not stay readable in the database once the user has it
            conn.execute(
                _fenced(status="sent", sent_at=bindparam("b_at"), locked_until=None, **_ERASED),
                outcomes.sent_redacted,
            )
        if outcomes.deferred:
            conn.execute(
                _fenced(
                    status="queued",
                    next_attempt_at=bindparam("b_next"),
                    locked_until=None,
                    last_error=bindparam("b_error"),
                ),
                outcomes.deferred,
            )
        if outcomes.failed:
            conn.execute(
                _fenced(status="failed", locked_until=None, last_error=bindparam("b_error")), outcomes.failed
            )
        if outcomes.failed_redacted:
            conn.execute(
                _fenced(status="failed", locked_until=None, last_error=bindparam("b_error"), **_ERASED),
                outcomes.failed_redacted,
            )
        if outcomes.released:
            # handed back untried: the try it was counted as never happened
            conn.execute(
                _fenced(
                    status="queued",
                    locked_until=None,
                    attempts=table.c.attempts - 1,
                    last_error=bindparam("b_error"),
                ),
                outcomes.released,
            )
        uow.commit()
    if outcomes.sent_redacted or outcomes.failed_redacted:
        purge_erased(uow.session.get_bind())


def _make_waiting_due(uow: UnitOfWork) -> None:
    with uow:
        now = uow.now()
        uow.session.execute(
            update(OutboxMail)
            .where(OutboxMail.status == "queued", OutboxMail.next_attempt_at > now)
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        uow.commit()


def deliver_due(
    uow: UnitOfWork,
    transport: MailTransport,
    *,
    policy: DeliveryPolicy | None = None,
    include_waiting: bool = False,
    stop: Callable[[], bool] | None = None,
) -> PassResult:
    """One pass: deliver every message due now, batch by batch; `include_waiting` also takes those in backoff.

    A message deferred during the pass waits for its next turn in a later pass. When the server
    cannot be reached at all, the pass ends and the messages stay queued without losing a try.
    While one batch is on the wire (in a helper thread that alone uses the transport), this
    thread, which alone uses the database, records the previous batch and claims the next.
    """
    policy = policy or DeliveryPolicy()
    stopped = stop or (lambda: False)
    if include_waiting:
        _make_waiting_due(uow)
    cutoff = uow.now()
    result = PassResult()
    batch = [] if stopped() else _claim(uow, policy=policy, cutoff=cutoff)
    if not batch:
        return result
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dialconf-smtp") as sender:
        while batch:
            outcomes = _Outcomes()
            sending = sender.submit(
                _send_batch, transport, batch, outcomes, result, policy=policy, clock=uow.clock,
                rng=uow.rng, stopped=stopped,
            )  # fmt: skip
            upcoming: list[_Outgoing] = []
            try:
                if not stopped():
                    upcoming = _claim(uow, policy=policy, cutoff=cutoff)
            finally:
                try:
                    sending.result()
                finally:
                    if upcoming and (result.server_error or stopped() or sending.exception()):
                        _release(outcomes, upcoming, result)
                        upcoming = []
                    _record(uow, outcomes)
            batch = upcoming
    return result


def _release(outcomes: _Outcomes, items: Sequence[_Outgoing], result: PassResult) -> None:
    """Hand claimed messages back untried."""
    note = (
        f"not sent yet: {result.server_error}"
        if result.server_error
        else "not sent yet: handed back by a stopping worker"
    )
    outcomes.released.extend({"b_id": i.id, "b_lease": i.lease, "b_error": note} for i in items)
    result.not_attempted += len(items)


def _send_batch(
    transport: MailTransport,
    batch: Sequence[_Outgoing],
    outcomes: _Outcomes,
    result: PassResult,
    *,
    policy: DeliveryPolicy,
    clock: Callable[[], datetime],
    rng: Random,
    stopped: Callable[[], bool],
) -> None:
    """Send a claimed batch, noting each outcome in `outcomes`; what is left untried is handed back."""
    done = 0
    try:
        for item in batch:
            # stop starting messages with half the lease gone, so none is sent after another worker may own it
            if stopped() or time.monotonic() > item.claimed_at + policy.lease.total_seconds() / 2:
                break
            key = {"b_id": item.id, "b_lease": item.lease}
            try:
                transport.send(item.envelope.envelope_from, item.envelope.recipients, item.envelope.data)
            except ServerUnavailable as exc:
                result.server_error = exc.reply
                break
            except PermanentFailure as exc:
                _fail(outcomes, item, {**key, "b_error": exc.reply})
                result.failed += 1
            except TemporaryFailure as exc:
                if item.attempts >= policy.max_attempts:
                    error = f"gave up after {item.attempts} tries; last: {exc.reply}"
                    _fail(outcomes, item, {**key, "b_error": error})
                    result.failed += 1
                else:
                    next_at = clock() + retry_delay(item.attempts, policy, rng)
                    outcomes.deferred.append({**key, "b_error": exc.reply, "b_next": next_at})
                    result.deferred += 1
            else:
                sent = {**key, "b_at": clock()}
                (outcomes.sent_redacted if item.carries_pin else outcomes.sent).append(sent)
                result.sent += 1
            done += 1
    finally:
        if done < len(batch):
            _release(outcomes, batch[done:], result)


def _fail(outcomes: _Outcomes, item: _Outgoing, failure: dict[str, Any]) -> None:
    if item.carries_pin:
        outcomes.failed_redacted.append({**failure, "b_error": failure["b_error"] + PIN_ERASED})
    else:
        outcomes.failed.append(failure)


def retry_mail(uow: UnitOfWork, *, mail_id: int, actor: Actor) -> MailDetail:
    """Queue a failed message again, with a fresh count of tries."""
    with uow:
        row = uow.session.get(OutboxMail, mail_id)
        if row is None or (actor.role is not Role.OPERATOR and row.tenant_id != actor.tenant_id):
            raise MailNotFound(mail_id)
        tenant = uow.session.get(Tenant, row.tenant_id) if row.tenant_id else None
        require(actor, Permission.SEND_INFO, tenant)
        if row.status != "failed":
            raise Conflict(f"mail {mail_id} is {row.status}, not failed; only a failed mail can be retried")
        if row.redacted:
            raise Conflict(
                f"mail {mail_id} carried a PIN, erased when its delivery failed; send a new one with: "
                f"dialconf user reset-pin {row.user_upn or 'UPN'}"
            )
        before = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}
        row.status, row.attempts, row.locked_until = "queued", 0, None
        row.next_attempt_at = uow.now()
        audit(uow, actor, "mail.retry", str(mail_id), tenant_id=row.tenant_id, before=before)
        uow.commit()
    return show_mail(uow, mail_id=mail_id, actor=actor)
