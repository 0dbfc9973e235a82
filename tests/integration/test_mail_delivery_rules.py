"""The delivery rules on a real database (SQLite and PostgreSQL) with a fake mail transport and a fake clock:
backoff, bounded tries, leases that expire, and outcomes fenced by the lease they were claimed with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from random import Random

import pytest
from sqlalchemy import select, update

from dialconf.mail.smtp import PermanentFailure, ServerUnavailable, TemporaryFailure
from dialconf.services.delivery import DeliveryPolicy, deliver_due
from dialconf.store.models import OutboxMail
from dialconf.store.uow import UnitOfWork
from tests.conftest import make_uow

START = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
POLICY = DeliveryPolicy(
    batch_size=10, max_attempts=4, first_retry=timedelta(minutes=1), lease=timedelta(minutes=5)
)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class FakeTransport:
    """Answers each send with the next scripted outcome (None: accepted); `on_send` runs first."""

    script: list[Exception | None] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)
    on_send: Callable[[], None] | None = None
    closed: int = 0
    description: str = "fake"

    def send(self, envelope_from: str, recipients: Sequence[str], data: bytes) -> None:
        if self.on_send is not None:
            hook, self.on_send = self.on_send, None
            hook()
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.sent.append(data)

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def uow(database_url: str, clock: Clock) -> UnitOfWork:
    return make_uow(database_url, clock=clock, rng=Random(7))


def queue(uow: UnitOfWork, count: int = 1, *, carries_pin: bool = False) -> list[int]:
    with uow:
        rows = [
            OutboxMail(
                kind="conference_info",
                to_addr=f"user{i}@contoso.com",
                from_addr="dialin@contoso.com",
                from_name="Contoso",
                subject="Your audio conferencing information",
                body_text=f"PIN 4711{i}\n",
                body_html=f"<p>PIN 4711{i}</p>",
                carries_pin=carries_pin,
                message_id=f"<m{i}-{uow.now().timestamp()}@contoso.com>",
                next_attempt_at=uow.now(),
                created_at=uow.now(),
            )
            for i in range(count)
        ]
        uow.session.add_all(rows)
        uow.commit()
        return [r.id for r in rows]


def row(uow: UnitOfWork, mail_id: int) -> OutboxMail:
    with uow:
        found = uow.session.scalars(select(OutboxMail).where(OutboxMail.id == mail_id)).one()
        uow.session.expunge(found)
        return found


def test_temporary_failures_back_off_exponentially_with_jitter_then_give_up(
    uow: UnitOfWork, clock: Clock
) -> None:
    [mail_id] = queue(uow)
    transport = FakeTransport(script=[TemporaryFailure("451 busy")] * 4)
    for attempt, ceiling in enumerate([timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)], 1):
        assert deliver_due(uow, transport, policy=POLICY).deferred == 1
        mail = row(uow, mail_id)
        assert mail.status == "queued" and mail.attempts == attempt and mail.last_error == "451 busy"
        wait = mail.next_attempt_at - clock.now
        assert ceiling / 2 <= wait <= ceiling
        # not due yet: a pass now leaves it alone
        assert deliver_due(uow, transport, policy=POLICY).handled == 0
        clock.advance(wait)
    assert deliver_due(uow, transport, policy=POLICY).failed == 1
    mail = row(uow, mail_id)
    assert mail.status == "failed" and mail.attempts == 4
    assert mail.last_error == "gave up after 4 tries; last: 451 busy"
    assert transport.sent == []


def test_a_permanent_failure_fails_at_once(uow: UnitOfWork) -> None:
    [mail_id] = queue(uow)
    deliver_due(uow, FakeTransport(script=[PermanentFailure("550 no such user")]), policy=POLICY)
    mail = row(uow, mail_id)
    assert (mail.status, mail.attempts, mail.last_error) == ("failed", 1, "550 no such user")


def test_an_unreachable_server_costs_no_tries(uow: UnitOfWork) -> None:
    ids = queue(uow, 3)
    result = deliver_due(uow, FakeTransport(script=[ServerUnavailable("connection refused")]), policy=POLICY)
    assert result.not_attempted == 3 and result.server_error == "connection refused"
    for mail_id in ids:
        mail = row(uow, mail_id)
        assert mail.status == "queued" and mail.attempts == 0 and mail.locked_until is None
        assert mail.last_error == "not sent yet: connection refused"


def test_a_dead_workers_claim_is_taken_again_only_after_its_lease(uow: UnitOfWork, clock: Clock) -> None:
    [mail_id] = queue(uow)
    with uow:  # what a worker killed after claiming leaves behind
        uow.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id)
            .values(status="sending", attempts=1, locked_until=clock.now + POLICY.lease)
        )
        uow.commit()
    transport = FakeTransport()
    assert deliver_due(uow, transport, policy=POLICY).handled == 0
    clock.advance(POLICY.lease + timedelta(seconds=1))
    assert deliver_due(uow, transport, policy=POLICY).sent == 1
    mail = row(uow, mail_id)
    assert mail.status == "sent" and mail.attempts == 2 and len(transport.sent) == 1


def test_a_message_whose_worker_died_on_every_try_fails_instead_of_looping(
    uow: UnitOfWork, clock: Clock
) -> None:
    [mail_id] = queue(uow)
    with uow:  # the last allowed try also ended with its worker gone
        uow.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id)
            .values(status="sending", attempts=POLICY.max_attempts, locked_until=clock.now + POLICY.lease)
        )
        uow.commit()
    clock.advance(POLICY.lease + timedelta(seconds=1))
    transport = FakeTransport()
    assert deliver_due(uow, transport, policy=POLICY).handled == 0
    mail = row(uow, mail_id)
    assert mail.status == "failed" and transport.sent == []
    assert mail.last_error is not None and "worker stopped while sending" in mail.last_error


def test_a_worker_that_lost_its_lease_cannot_overwrite_what_another_recorded(
    database_url: str, uow: UnitOfWork, clock: Clock
) -> None:
    [mail_id] = queue(uow)
    other = make_uow(database_url, clock=clock)
    rescuer = FakeTransport()

    def stall_past_the_lease() -> None:
        # while the first worker hangs in send, its lease runs out and the message is claimed
        # again (by another worker, or by this pass's next claim) and delivered
        clock.advance(POLICY.lease + timedelta(seconds=1))
        deliver_due(other, rescuer, policy=POLICY)

    slow = FakeTransport(script=[PermanentFailure("550 too late")], on_send=stall_past_the_lease)
    assert deliver_due(uow, slow, policy=POLICY).failed == 1
    mail = row(uow, mail_id)
    assert (mail.status, mail.last_error) == ("sent", None)
    assert len(rescuer.sent) + len(slow.sent) == 1


def test_a_worker_that_lost_its_lease_cannot_touch_the_new_claim(
    database_url: str, uow: UnitOfWork, clock: Clock
) -> None:
    [mail_id] = queue(uow)
    other = make_uow(database_url, clock=clock)
    new_lease = START + 2 * POLICY.lease

    def another_worker_claims() -> None:
        clock.advance(POLICY.lease + timedelta(seconds=1))
        with other:  # what a second worker's claim of the expired row leaves behind
            other.session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id)
                .values(status="sending", attempts=OutboxMail.attempts + 1, locked_until=new_lease)
            )
            other.commit()

    slow = FakeTransport(script=[PermanentFailure("550 too late")], on_send=another_worker_claims)
    assert deliver_due(uow, slow, policy=POLICY).failed == 1
    mail = row(uow, mail_id)
    # the second worker's claim stands: not failed, no error written over it
    assert (mail.status, mail.locked_until, mail.last_error) == ("sending", new_lease, None)


def test_a_stopping_pass_hands_back_what_it_has_not_tried(uow: UnitOfWork) -> None:
    ids = queue(uow, 5)
    transport = FakeTransport()
    result = deliver_due(uow, transport, policy=POLICY, stop=lambda: len(transport.sent) >= 2)
    assert (result.sent, result.not_attempted) == (2, 3)
    statuses = [(row(uow, i).status, row(uow, i).attempts) for i in ids]
    assert statuses == [("sent", 1)] * 2 + [("queued", 0)] * 3


def test_pin_bodies_are_purged_when_sent_and_kept_while_queued(uow: UnitOfWork) -> None:
    [kept, purged] = queue(uow, 2, carries_pin=True)
    deliver_due(uow, FakeTransport(script=[TemporaryFailure("451 later"), None]), policy=POLICY)
    waiting, sent = row(uow, kept), row(uow, purged)
    assert waiting.status == "queued" and not waiting.redacted and "47110" in waiting.body_text
    assert sent.status == "sent" and sent.redacted and sent.body_text == "" and sent.body_html == ""


def test_include_waiting_takes_messages_in_backoff_once_per_pass(uow: UnitOfWork) -> None:
    [mail_id] = queue(uow)
    transport = FakeTransport(script=[TemporaryFailure("451 a"), TemporaryFailure("451 b")])
    deliver_due(uow, transport, policy=POLICY)
    result = deliver_due(uow, transport, policy=POLICY, include_waiting=True)
    # deferred again, and not taken a third time within the same pass
    assert result.deferred == 1 and row(uow, mail_id).attempts == 2


@pytest.mark.parametrize(
    "failure", [PermanentFailure("550 5.1.1 no such user"), TemporaryFailure("451 later")]
)
def test_a_pin_mail_that_fails_for_good_loses_its_body_and_says_to_reset_the_pin(
    uow: UnitOfWork, failure: Exception
) -> None:
    [pin_mail, other] = queue(uow, 2, carries_pin=True)
    with uow:  # only the second one is an ordinary mail
        uow.session.execute(update(OutboxMail).where(OutboxMail.id == other).values(carries_pin=False))
        uow.commit()
    one_try = DeliveryPolicy(batch_size=10, max_attempts=1)
    assert deliver_due(uow, FakeTransport(script=[failure, failure]), policy=one_try).failed == 2
    erased, kept = row(uow, pin_mail), row(uow, other)
    assert erased.status == "failed" and erased.redacted
    assert erased.body_text == "" and erased.body_html == ""
    assert erased.last_error is not None and "reset the PIN again" in erased.last_error
    assert kept.status == "failed" and not kept.redacted and kept.body_text == "PIN 47111\n"
    assert kept.last_error is not None and "reset the PIN" not in kept.last_error


def test_a_pin_mail_whose_worker_died_on_every_try_loses_its_body(uow: UnitOfWork, clock: Clock) -> None:
    [mail_id] = queue(uow, carries_pin=True)
    with uow:
        uow.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == mail_id)
            .values(status="sending", attempts=POLICY.max_attempts, locked_until=clock.now + POLICY.lease)
        )
        uow.commit()
    clock.advance(POLICY.lease + timedelta(seconds=1))
    deliver_due(uow, FakeTransport(), policy=POLICY)
    mail = row(uow, mail_id)
    assert mail.status == "failed" and mail.redacted and mail.body_text == "" and mail.body_html == ""
    assert mail.last_error is not None and "worker stopped while sending" in mail.last_error
    assert "reset the PIN again" in mail.last_error
