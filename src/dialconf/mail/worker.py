"""The delivery loop behind `dialconf worker` and `dialconf up`: passes over the outbox until told to stop."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from sqlalchemy.exc import OperationalError

from dialconf.errors import DatabaseUnavailable
from dialconf.mail.smtp import MailTransport
from dialconf.services.delivery import DeliveryPolicy, PassResult, deliver_due
from dialconf.store.uow import UnitOfWork

Report = Callable[[str], None]

# waits between tries while the SMTP server (or the database) cannot be reached
_OUTAGE_FIRST_WAIT = 1.0
_OUTAGE_MAX_WAIT = 30.0


def summary(result: PassResult) -> str:
    text = f"sent {result.sent}, deferred {result.deferred}, failed {result.failed}"
    if result.server_error:
        text += f"; SMTP server unavailable ({result.server_error}), {result.not_attempted} left queued"
    elif result.not_attempted:
        text += f"; {result.not_attempted} handed back untried"
    return text


class DeliveryWorker:
    """Deliver due mail, then poll for more every `poll_interval` seconds, until `stop` is set."""

    def __init__(
        self,
        uow: UnitOfWork,
        transport: MailTransport,
        *,
        policy: DeliveryPolicy | None = None,
        poll_interval: float = 1.0,
        report: Report | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._uow = uow
        self._transport = transport
        self._policy = policy or DeliveryPolicy()
        self._poll = poll_interval
        self._report = report or (lambda _line: None)
        self._rng = rng or random.Random()
        self.totals = PassResult()

    def _outage_wait(self, outages: int) -> float:
        ceiling = min(_OUTAGE_MAX_WAIT, _OUTAGE_FIRST_WAIT * (1 << max(0, min(outages - 1, 10))))
        jitter: float = self._rng.random()
        return ceiling / 2 + ceiling / 2 * jitter

    def run(self, stop: threading.Event) -> None:
        outages = 0
        try:
            while not stop.is_set():
                try:
                    result = deliver_due(self._uow, self._transport, policy=self._policy, stop=stop.is_set)
                except (OperationalError, DatabaseUnavailable) as exc:
                    # the database went away (or cannot be reconnected to: DatabaseUnavailable); what was
                    # claimed comes back when its lease runs out
                    outages += 1
                    reason = exc.message if isinstance(exc, DatabaseUnavailable) else str(exc.orig)
                    self._report(f"database unavailable: {reason.strip().splitlines()[0]}")
                    stop.wait(self._outage_wait(outages))
                    continue
                self._add(result)
                if result.handled or result.server_error:
                    self._report(summary(result))
                if result.server_error:
                    outages += 1
                    stop.wait(self._outage_wait(outages))
                    continue
                outages = 0
                if not result.handled:
                    # idle: let the server have its connection back until there is mail again
                    self._transport.close()
                    stop.wait(self._poll)
        finally:
            self._transport.close()

    def _add(self, result: PassResult) -> None:
        t = self.totals
        t.sent += result.sent
        t.deferred += result.deferred
        t.failed += result.failed
