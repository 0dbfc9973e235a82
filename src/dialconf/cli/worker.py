"""dialconf worker: deliver the outbox over SMTP, and run the meeting chores, until stopped."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING

from dialconf.cli.common import runtime
from dialconf.cli.framework import App, Context, Option
from dialconf.cli.output import say
from dialconf.cli.runtime import Runtime
from dialconf.config import ConfigError, SmtpSettings
from dialconf.domain.roles import Permission

if TYPE_CHECKING:
    from dialconf.mail.smtp import SmtpTransport
    from dialconf.services.delivery import DeliveryPolicy

NAME = "worker"

BATCH = Option(50, "--batch-size", min=1, max=10_000, help="Messages claimed at a time.")
MAX_ATTEMPTS = Option(10, "--max-attempts", min=1, max=100, help="Tries before a message fails.")
FIRST_RETRY = Option(
    60.0,
    "--first-retry",
    min=0.001,
    metavar="SECONDS",
    help="Wait after the first temporary failure; doubles each try.",
)
LEASE = Option(
    300.0,
    "--lease",
    min=0.1,
    metavar="SECONDS",
    help="How long a claim holds its messages; a dead worker's messages are taken again after it.",
)

MEETING_INTERVAL = Option(
    30.0,
    "--meeting-interval",
    min=0.05,
    metavar="SECONDS",
    help="Wait between runs of the due meeting migration jobs and the release of ended meetings' IDs.",
)


def make_policy(batch_size: int, max_attempts: int, first_retry: float, lease: float) -> DeliveryPolicy:
    from dialconf.services.delivery import DeliveryPolicy

    return DeliveryPolicy(
        batch_size=batch_size,
        max_attempts=max_attempts,
        first_retry=timedelta(seconds=first_retry),
        lease=timedelta(seconds=lease),
    )


def require_smtp(smtp: SmtpSettings, what: str) -> SmtpTransport:
    """The configured SMTP transport, or a clear refusal when there is none."""
    if not smtp.host:
        raise ConfigError(
            f"{what} needs an SMTP server and DIALCONF_SMTP_HOST is not set.\n"
            "Set DIALCONF_SMTP_HOST (and DIALCONF_SMTP_PORT, DIALCONF_SMTP_SECURITY=none|starttls|tls, "
            "DIALCONF_SMTP_USERNAME, DIALCONF_SMTP_PASSWORD as your server needs), "
            "or run `dialconf up`, which delivers to an embedded mail catcher."
        )
    from dialconf.mail.smtp import SmtpTransport

    return SmtpTransport(smtp)


def database_label(rt: Runtime) -> str:
    path = rt.settings.sqlite_path()
    return str(path) if path else rt.engine.url.render_as_string(hide_password=True)


def timestamped(prefix: str) -> Callable[[str], None]:
    def report(line: str) -> None:
        say(f"{datetime.now().strftime('%H:%M:%S')} {prefix}: {line}")
        sys.stdout.flush()

    return report


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and Ctrl-C set `stop`; the loop then finishes the message in hand and hands back the rest."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def register(app: App) -> None:
    @app.command("worker")
    def worker(
        ctx: Context,
        poll: float = Option(
            1.0, "--poll", min=0.01, metavar="SECONDS", help="Idle wait between looks."
        ),
        batch_size: int = BATCH,
        max_attempts: int = MAX_ATTEMPTS,
        first_retry: float = FIRST_RETRY,
        lease: float = LEASE,
        meeting_interval: float = MEETING_INTERVAL,
    ) -> None:
        """Deliver queued email over SMTP until SIGTERM or Ctrl-C (needs DIALCONF_SMTP_HOST).

        Beside it, at the start and every --meeting-interval seconds: run the due meeting migration
        jobs and release the conference IDs of meetings that are over (meeting run-migrations, expire).
        """
        from dialconf.cli.chores import MeetingChores
        from dialconf.mail.worker import DeliveryWorker

        rt = runtime(ctx)
        rt.require(Permission.RUN_SERVICES)
        transport = require_smtp(rt.settings.smtp, "dialconf worker")
        uow = rt.uow()
        report = timestamped("worker")
        loop = DeliveryWorker(
            uow,
            transport,
            policy=make_policy(batch_size, max_attempts, first_retry, lease),
            poll_interval=poll,
            report=report,
        )
        chores = MeetingChores(rt.uow(), rt.actor, interval=meeting_interval, report=timestamped("worker: meetings"))
        stop = threading.Event()
        meetings = threading.Thread(target=chores.run, args=(stop,), name="dialconf-meetings", daemon=True)
        with stop_on_signals(stop):
            report(
                f"started: delivering the outbox of {database_label(rt)} to {transport.description}, "
                f"meeting jobs every {meeting_interval:g} s; SIGTERM or Ctrl-C stops"
            )
            meetings.start()
            try:
                loop.run(stop)
            finally:
                stop.set()
                meetings.join(timeout=60)
        t = loop.totals
        report(
            f"stopped (sent {t.sent}, deferred {t.deferred}, failed {t.failed}; "
            f"migration jobs run {chores.jobs_run}, meeting IDs released {chores.ids_released})"
        )


# `dialconf worker` is a top-level command: the CLI imports this module only when it is chosen
app = App()
register(app)
