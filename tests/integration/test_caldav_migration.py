"""Meeting migration in a real Radicale calendar: stale dial-in blocks rewritten, everything else untouched.

The tenant's CalDAV URL is Radicale's per-user layout, http://host/{upn}/calendar/, with a service
account that may write every calendar. Ada's calendar holds her dialconf invitation, an event she
wrote herself with the block pasted in, an event without a block, someone else's meeting and a past
one; a static conference ID reset then migrates her.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import icalendar
import pytest
from sqlalchemy import func, select

from dialconf.calendars.caldav import CalDavClient, EventChanged
from dialconf.services import meeting_migrations, meetings, resets, tenants, users
from dialconf.store.db import make_engine, make_session_factory
from dialconf.store.models import AuditEvent, Meeting, OutboxMail, Tenant
from dialconf.store.uow import UnitOfWork
from tests.conftest import make_uow
from tests.integration.builders import OPERATOR, FakeClock, make_tenant, make_user
from tests.support.radicale import RadicaleServer, radicale_server

ADA = "ada@contoso.com"
SERVICE, PASSWORD = "dialconf", "Calendar-Secret-4711"
START = "20300304T090000Z"
FRESH_TOP = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example Corp//Calendar 1.0//EN\r\n"


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[RadicaleServer]:
    folder = tmp_path / "radicale"
    folder.mkdir()
    with radicale_server(folder, {SERVICE: PASSWORD}) as server:
        yield server


def _event(uid: str, *, organizer: str, start: str, description: str, extra: str = "") -> str:
    """An event as a calendar program might have written it: CRLF lines, its own properties, an alarm."""
    return (
        FRESH_TOP + "BEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260301T080000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\n"
        f"SUMMARY:Quarterly review\r\nLOCATION:Room 4\\, second floor\r\n"
        f"ORGANIZER;CN=Ada:mailto:{organizer}\r\n"
        "ATTENDEE;CN=\"Bob: the builder\";PARTSTAT=ACCEPTED:mailto:bob@example.com\r\n"
        "X-EXAMPLE-FLAG;X-REASON=\"a:b\":kept as it is\r\n"
        f"DESCRIPTION:{_escape(description)}\r\n{extra}"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\n"
        f"DESCRIPTION:{_escape(description)}\r\nEND:VALARM\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


@dataclass
class Calendar:
    """Ada's calendar on Radicale, read and written by the test as a calendar program would."""

    server: RadicaleServer
    url: str
    hrefs: dict[str, str] = field(default_factory=dict)

    def put(self, name: str, text: str) -> None:
        href = f"{self.url}{name}.ics"
        with self.server.client(SERVICE) as http:
            response = http.put(href, content=text.encode(), headers={"Content-Type": "text/calendar"})
        assert response.status_code in (201, 204), response.status_code
        self.hrefs[name] = href

    def get(self, name: str) -> tuple[bytes, str]:
        with self.server.client(SERVICE) as http:
            response = http.get(self.hrefs[name])
        assert response.status_code == 200
        return response.content, response.headers["ETag"]

    def vevent(self, name: str) -> icalendar.Event:
        event: icalendar.Event = icalendar.Calendar.from_ical(self.get(name)[0]).walk("VEVENT")[0]
        return event

    def snapshot(self) -> dict[str, tuple[bytes, str]]:
        return {name: self.get(name) for name in self.hrefs}


def _properties(component: icalendar.cal.Component, *, leave_out: tuple[str, ...] = ()) -> list[Any]:
    """Every property of a component and its subcomponents as (name, value text, parameters)."""
    found = [
        (name, value if isinstance(value, bytes) else value.to_ical(), dict(getattr(value, "params", {})))
        for name, value in component.property_items(recursive=False)
        if name not in leave_out
    ]
    return found + [_properties(sub) for sub in component.subcomponents]


def _spoken(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}#"


@dataclass
class Setup:
    uow: UnitOfWork
    calendar: Calendar
    old_id: str
    meeting_id: int
    old_description: str


def _setup(
    url: str, radicale: RadicaleServer, clock: FakeClock | None = None, *, mode: str = "static", **uow_options: Any
) -> Setup:
    uow = make_uow(url, clock=clock, **uow_options) if clock else make_uow(url, **uow_options)
    make_tenant(uow, mode=mode)
    make_user(uow, ADA)
    tenants.update_settings(
        uow,
        name="contoso",
        actor=OPERATOR,
        caldav_url=f"{radicale.url}/{{upn}}/calendar/",
        caldav_username=SERVICE,
        caldav_password=PASSWORD,
    )
    calendar = Calendar(radicale, radicale.make_calendar(SERVICE, f"/{ADA}/calendar/"))
    meeting = meetings.schedule_meeting(
        uow,
        organizer=ADA,
        subject="Sync",
        start="2030-03-04T09:00:00+00:00",
        end="2030-03-04T10:00:00+00:00",
        attendees=["bob@example.com"],
        actor=OPERATOR,
    )
    with uow:
        invitation = uow.session.scalars(select(OutboxMail.ics).where(OutboxMail.ics.is_not(None))).one()
    assert invitation is not None
    # the invitation as a calendar program files it: no METHOD in a stored event
    calendar.put("invitation", invitation.replace("METHOD:REQUEST\r\n", ""))
    old_description = str(icalendar.Calendar.from_ical(invitation).walk("VEVENT")[0]["DESCRIPTION"])
    pasted = "Agenda: numbers, plans; questions\n\n" + old_description
    calendar.put("pasted", _event("pasted-1@example.com", organizer=ADA, start=START, description=pasted))
    calendar.put(
        "no-block",
        _event("plain-1@example.com", organizer=ADA, start=START, description="Lunch, no phone needed"),
    )
    calendar.put(
        "someone-else",
        _event("bob-1@example.com", organizer="bob@example.com", start=START, description=pasted),
    )
    calendar.put("past", _event("past-1@example.com", organizer=ADA, start="20200302T090000Z", description=pasted))
    return Setup(uow, calendar, meeting.conference_id, meeting.id, old_description)


def _reset(setup: Setup) -> str:
    result = resets.reset_conference_id(setup.uow, upn=ADA, actor=OPERATOR, send_email=False)
    assert result.conference_id is not None
    return result.conference_id


def _invitations_sent(uow: UnitOfWork) -> int:
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(OutboxMail).where(OutboxMail.ics.is_not(None))) or 0)


def test_a_reset_rewrites_the_stale_block_of_the_organizers_upcoming_events_and_writes_no_other(
    database_url: str, radicale: RadicaleServer
) -> None:
    setup = _setup(database_url, radicale)
    calendar = setup.calendar
    before = calendar.snapshot()
    parsed_before = {name: calendar.vevent(name) for name in ("invitation", "pasted")}
    new_id = _reset(setup)

    (job,) = meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    assert (job.state, job.meetings_updated) == ("succeeded", 3), job.last_message  # own meeting + 2 events

    after = calendar.snapshot()
    for name in ("no-block", "someone-else", "past"):
        assert after[name] == before[name], f"{name} was written"
    for name in ("invitation", "pasted"):
        old, new = parsed_before[name], calendar.vevent(name)
        assert after[name][1] != before[name][1]
        description = str(new["DESCRIPTION"])
        assert f"Conference ID: {_spoken(new_id)}" in description
        assert _spoken(setup.old_id) not in description
        kept = str(old["DESCRIPTION"]).split("_" * 64)[0]
        assert description.startswith(kept)  # what the organizer wrote before the block stays
        assert int(new["SEQUENCE"]) == int(old.get("SEQUENCE", 0)) + 1
        assert _properties(new, leave_out=("DESCRIPTION", "SEQUENCE")) == _properties(
            old, leave_out=("DESCRIPTION", "SEQUENCE")
        )
    # the alarm's own description is not the invitation's: it keeps the old text
    alarm = calendar.vevent("pasted").walk("VALARM")[0]
    assert _spoken(setup.old_id) in str(alarm["DESCRIPTION"])

    again = meeting_migrations.migrate_organizer(setup.uow, upn=ADA, actor=OPERATOR)
    assert (again.state, again.meetings_updated) == ("succeeded", 0)
    assert calendar.snapshot() == after


class EditedBeforeFirstWrite(CalDavClient):
    """The seam of the conflict test: just before dialconf's first write, someone edits the event."""

    def __init__(self, *args: Any, edit: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.edit = edit
        self.puts: list[str] = []

    def put(self, href: str, text: str, *, etag: str) -> str | None:
        if not self.puts:
            self.edit(href)
        try:
            new_etag = super().put(href, text, etag=etag)
        except EventChanged:
            self.puts.append("412")
            raise
        self.puts.append("written")
        return new_etag


def test_an_event_edited_between_read_and_write_is_read_again_and_the_edit_is_kept(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    clients: list[EditedBeforeFirstWrite] = []
    edited: list[str] = []

    def add_a_comment(href: str) -> None:
        with radicale.client(SERVICE) as http:
            text = http.get(href).text
            changed = text.replace("END:VEVENT", "COMMENT:Moved to room 7\r\nEND:VEVENT", 1)
            response = http.put(href, content=changed.encode(), headers={"Content-Type": "text/calendar"})
            assert response.status_code == 204
        edited.append(href)

    def connect(url: str, username: str | None, password: str | None) -> CalDavClient:
        client = EditedBeforeFirstWrite(url, username=username, password=password, edit=add_a_comment)
        clients.append(client)
        return client

    setup = _setup(sqlite_url, radicale, caldav=connect)
    new_id = _reset(setup)
    (job,) = meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    assert (job.state, job.meetings_updated) == ("succeeded", 3), job.last_message
    (client,) = clients
    assert client.puts == ["412", "written", "written"]  # the conflict, its retry, the other event
    (href,) = edited
    (name,) = [n for n, h in setup.calendar.hrefs.items() if unquote(h) == unquote(href)]
    event = setup.calendar.vevent(name)
    assert str(event["COMMENT"]) == "Moved to room 7"  # the edit made meanwhile survives
    assert f"Conference ID: {_spoken(new_id)}" in str(event["DESCRIPTION"])


def test_a_stopped_caldav_server_fails_the_job_with_a_message_and_a_retry_after_restart_succeeds(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    clock = FakeClock()
    setup = _setup(sqlite_url, radicale, clock)
    before = setup.calendar.snapshot()
    sent = _invitations_sent(setup.uow)
    new_id = _reset(setup)
    radicale.stop()

    (failed,) = meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    assert (failed.state, failed.attempts) == ("failed", 1)
    message = failed.last_message or ""
    assert "CalDAV" in message and f"127.0.0.1:{radicale.port}" in message
    assert PASSWORD not in message
    # dialconf's own invitation went out with the new ID all the same: the calendar is a later step
    assert _invitations_sent(setup.uow) == sent + 1
    with setup.uow:
        meeting = setup.uow.session.get(Meeting, setup.meeting_id)
        assert meeting is not None and meeting.conference_id == new_id

    radicale.start()
    clock.advance(seconds=59)
    assert meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR) == []  # still in its backoff
    clock.advance(seconds=1)
    (retried,) = meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    # the retry rewrites the two calendar events and re-sends nothing
    assert (retried.id, retried.state, retried.attempts, retried.meetings_updated) == (failed.id, "succeeded", 2, 2)
    assert _invitations_sent(setup.uow) == sent + 1
    assert f"Conference ID: {_spoken(new_id)}" in str(setup.calendar.vevent("pasted")["DESCRIPTION"])
    assert setup.calendar.get("no-block") == before["no-block"]


def test_wrong_caldav_credentials_fail_the_job_with_a_message_that_holds_no_password(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    setup = _setup(sqlite_url, radicale)
    wrong = "Not-The-Password-99"
    tenants.update_settings(setup.uow, name="contoso", actor=OPERATOR, caldav_password=wrong)
    before = setup.calendar.snapshot()
    _reset(setup)
    (failed,) = meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    assert failed.state == "failed"
    message = failed.last_message or ""
    assert "refused the tenant's credentials" in message and "HTTP 401" in message
    assert wrong not in message and PASSWORD not in message
    assert setup.calendar.snapshot() == before


def test_the_caldav_password_is_stored_sealed_and_audited_only_as_changed(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    setup = _setup(sqlite_url, radicale)
    with setup.uow:
        stored = setup.uow.session.scalars(select(Tenant.caldav_password)).one()
        audited = [
            f"{e.before} {e.after} {e.detail}"
            for e in setup.uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "tenant.settings"))
        ]
    assert stored is not None and PASSWORD not in stored
    assert any("'caldav_password': '***'" in line for line in audited)
    assert not any(PASSWORD in line for line in audited)
    view = tenants.show_tenant(setup.uow, name="contoso", actor=OPERATOR).to_dict()
    assert (view["caldav_connected"], view["caldav_username"]) == (True, SERVICE)
    assert PASSWORD not in repr(view)


def test_requests_and_urllib3_still_work_beside_the_calendar_dependencies(radicale: RadicaleServer) -> None:
    import requests
    import urllib3

    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("urllib3-future")  # it would replace urllib3 under requests
    assert urllib3.__version__.split(".")[0] == "2"
    response = requests.request("PROPFIND", f"{radicale.url}/", auth=(SERVICE, PASSWORD), timeout=10)
    assert response.status_code == 207


def test_a_calendar_per_user_that_does_not_exist_is_nothing_to_migrate(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    clock = FakeClock()
    uow = make_uow(sqlite_url, clock=clock)
    make_tenant(uow)
    make_user(uow, "grace@contoso.com")
    tenants.update_settings(
        uow,
        name="contoso",
        actor=OPERATOR,
        caldav_url=f"{radicale.url}/{{upn}}/calendar/",
        caldav_username=SERVICE,
        caldav_password=PASSWORD,
    )
    job = meeting_migrations.migrate_organizer(uow, upn="grace@contoso.com", actor=OPERATOR)
    assert (job.state, job.meetings_updated) == ("succeeded", 0), job.last_message
    clock.advance(days=1)
    assert meeting_migrations.run_due_jobs(uow, actor=OPERATOR) == []


def test_in_dynamic_mode_an_invitation_gets_its_meetings_new_id_and_other_blocks_are_left_alone(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    setup = _setup(sqlite_url, radicale, mode="dynamic")
    before = setup.calendar.snapshot()
    renewed = resets.reset_conference_id(setup.uow, upn=ADA, actor=OPERATOR, send_email=False)
    assert renewed.meetings_renewed == 1
    new_id = meetings.show_meeting(setup.uow, meeting_id=setup.meeting_id, actor=OPERATOR).conference_id
    assert new_id != setup.old_id

    (job,) = meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    assert (job.state, job.meetings_updated) == ("succeeded", 2), job.last_message  # re-sent + its event
    assert f"Conference ID: {_spoken(new_id)}" in str(setup.calendar.vevent("invitation")["DESCRIPTION"])
    # a block pasted into an event that is no dialconf meeting: its ID belonged to no meeting dialconf knows
    after = setup.calendar.snapshot()
    assert {n: after[n] for n in after if n != "invitation"} == {n: before[n] for n in before if n != "invitation"}


def test_a_password_sealed_under_another_secret_key_fails_the_job_and_says_to_set_it_again(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    setup = _setup(sqlite_url, radicale)
    _reset(setup)
    other_key = UnitOfWork(make_session_factory(make_engine(sqlite_url)), pin_key=lambda: b"another-key-" * 4)
    (failed,) = meeting_migrations.run_due_jobs(other_key, actor=OPERATOR)
    assert failed.state == "failed"
    assert "cannot be read with this installation's secret key" in (failed.last_message or "")
    assert "--caldav-password-stdin" in (failed.last_message or "")


def test_a_recurring_event_that_began_in_the_past_but_goes_on_is_upcoming_and_rewritten(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    setup = _setup(sqlite_url, radicale)
    weekly = _event(
        "weekly-1@example.com",
        organizer=ADA,
        start="20200302T090000Z",
        description="Standing call\n\n" + setup.old_description,
        extra="RRULE:FREQ=WEEKLY;BYDAY=MO\r\n",
    )
    setup.calendar.put("weekly", weekly)
    new_id = _reset(setup)
    (job,) = meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    assert (job.state, job.meetings_updated) == ("succeeded", 4), job.last_message
    event = setup.calendar.vevent("weekly")
    assert f"Conference ID: {_spoken(new_id)}" in str(event["DESCRIPTION"])
    assert event["RRULE"].to_ical() == b"FREQ=WEEKLY;BYDAY=MO"


def test_disabling_the_organizer_writes_the_no_dial_in_block_into_her_events(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    setup = _setup(sqlite_url, radicale)
    before = setup.calendar.snapshot()
    users.disable_user(setup.uow, upn=ADA, actor=OPERATOR, send_email=False)
    (job,) = meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    assert (job.reason, job.state, job.meetings_updated) == ("user disabled", "succeeded", 3), job.last_message
    for name in ("invitation", "pasted"):
        description = str(setup.calendar.vevent(name)["DESCRIPTION"])
        assert "no longer has dial-in by phone" in description and _spoken(setup.old_id) not in description
    after = setup.calendar.snapshot()
    assert {n: after[n] for n in ("no-block", "someone-else", "past")} == {
        n: before[n] for n in ("no-block", "someone-else", "past")
    }
    assert meeting_migrations.migrate_organizer(setup.uow, upn=ADA, actor=OPERATOR).meetings_updated == 0


class WritesBeforeEachPut(CalDavClient):
    """The seam of the lock test: before each calendar write, an admin changes a setting meanwhile."""

    def __init__(self, *args: Any, meanwhile: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meanwhile = meanwhile

    def put(self, href: str, text: str, *, etag: str) -> str | None:
        self.meanwhile()
        return super().put(href, text, etag=etag)


def test_the_database_takes_other_writes_while_a_job_talks_to_the_calendar(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    # a job with thousands of events talks to the calendar for minutes: on SQLite it must not hold
    # the write lock meanwhile, or every admin's change would wait for it and then be refused
    impatient = UnitOfWork(
        make_session_factory(make_engine(sqlite_url, sqlite_busy_timeout_ms=200)),
        pin_key=lambda: b"unused",
    )
    changes: list[int] = []

    def change_a_setting() -> None:
        days = 3 + len(changes)
        tenants.update_settings(impatient, name="contoso", actor=OPERATOR, id_quarantine_days=days)
        changes.append(days)

    def connect(url: str, username: str | None, password: str | None) -> CalDavClient:
        return WritesBeforeEachPut(url, username=username, password=password, meanwhile=change_a_setting)

    setup = _setup(sqlite_url, radicale, caldav=connect)
    _reset(setup)
    (job,) = meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    assert (job.state, job.meetings_updated) == ("succeeded", 3), job.last_message
    assert changes == [3, 4]  # one per event written, each committed at once
    with setup.uow:
        tenant = setup.uow.session.scalars(select(Tenant).where(Tenant.name == "contoso")).one()
        assert tenant.id_quarantine_days == 4


class WorkerDied(BaseException):
    """The worker process ends (killed, machine down) while the job talks to the calendar."""


class DiesOnFirstRead(CalDavClient):
    died = False

    def events_from(self, start: Any) -> Any:
        if not DiesOnFirstRead.died:
            DiesOnFirstRead.died = True
            raise WorkerDied
        return super().events_from(start)


def test_a_job_whose_worker_died_mid_calendar_is_taken_again_when_its_lease_runs_out(
    sqlite_url: str, radicale: RadicaleServer
) -> None:
    clock = FakeClock()

    def connect(url: str, username: str | None, password: str | None) -> CalDavClient:
        return DiesOnFirstRead(url, username=username, password=password)

    setup = _setup(sqlite_url, radicale, clock, caldav=connect)
    new_id = _reset(setup)
    sent = _invitations_sent(setup.uow)
    with pytest.raises(WorkerDied):
        meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    assert _invitations_sent(setup.uow) == sent + 1  # the own meeting's step was done and committed
    (job,) = meeting_migrations.migration_status(setup.uow, actor=OPERATOR, upn=ADA)
    assert (job.state, job.attempts) == ("in_progress", 1)

    clock.advance(seconds=meeting_migrations.LEASE.total_seconds() - 1)
    assert meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR) == []  # its worker may still be at it
    clock.advance(seconds=1)
    (retried,) = meeting_migrations.run_due_jobs(setup.uow, actor=OPERATOR)
    assert (retried.state, retried.attempts, retried.meetings_updated) == ("succeeded", 2, 2)
    assert _invitations_sent(setup.uow) == sent + 1  # and is not done twice
    assert f"Conference ID: {_spoken(new_id)}" in str(setup.calendar.vevent("pasted")["DESCRIPTION"])
