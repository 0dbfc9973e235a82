"""The meeting chores that `dialconf worker` and `dialconf up` run beside mail delivery.

Every `interval` seconds (and once at the start): run the migration jobs that are due
(`meeting run-migrations`), then quarantine the own conference IDs of meetings that ended more than
their tenant's grace ago (`meeting expire`). One job that fails is recorded as failed and retried
after its backoff; an error in a pass (the database away, a bug) is reported and the next pass
comes all the same. The lines written name jobs, organizers and meetings, never a PIN.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.exc import OperationalError

from dialconf.domain.roles import Actor
from dialconf.errors import DialconfError
from dialconf.store.uow import UnitOfWork

Report = Callable[[str], None]
DEFAULT_INTERVAL = 30.0


class MeetingChores:
    """Run due migration jobs and release ended meetings' IDs every `interval` seconds, until `stop` is set."""

    def __init__(self, uow: UnitOfWork, actor: Actor, *, interval: float = DEFAULT_INTERVAL, report: Report) -> None:
        self._uow = uow
        self._actor = actor
        self._interval = interval
        self._report = report
        self.jobs_run = 0
        self.ids_released = 0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.run_once()
            stop.wait(self._interval)

    def run_once(self) -> None:
        """One pass: the due jobs, then the expiry; neither stops the other."""
        from dialconf.services.meeting_migrations import run_due_jobs
        from dialconf.services.meetings import release_expired_meeting_ids

        try:
            for job in run_due_jobs(self._uow, actor=self._actor):
                self.jobs_run += 1
                said = f"; {job.last_message}" if job.last_message else ""
                self._report(f"migration job {job.id} of {job.upn}: {job.state}{said}")
        except Exception as exc:  # reported; the next pass tries again
            self._report(f"migration jobs not run: {_reason(exc)}")
        try:
            expired = release_expired_meeting_ids(self._uow, actor=self._actor)
        except Exception as exc:  # reported; the next pass tries again
            self._report(f"meeting ID expiry not run: {_reason(exc)}")
            return
        if expired.released:
            self.ids_released += expired.released
            meetings = ", ".join(str(m) for m in expired.meetings)
            self._report(f"released the conference IDs of {expired.released} ended meeting(s): {meetings}")


def _reason(exc: Exception) -> str:
    if isinstance(exc, OperationalError):
        return f"database unavailable: {str(exc.orig).strip().splitlines()[0]}"
    if isinstance(exc, DialconfError):  # DatabaseUnavailable among them
        return exc.message
    return f"unexpected error ({type(exc).__name__})"
