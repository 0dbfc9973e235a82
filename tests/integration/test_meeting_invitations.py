"""Meeting invitations reach a real SMTP server (aiosmtpd) as a text/calendar part that parses with icalendar."""

from __future__ import annotations

from email.message import EmailMessage

import icalendar
import pytest
from sqlalchemy import update

from dialconf.calendars.ics import BLOCK_RULE
from dialconf.store.db import make_engine
from dialconf.store.models import User
from tests.conftest import Cli, seed_tenant
from tests.support.smtp import Received, SmtpServer

ADA = "ada@contoso.com"
ATTENDEES = ("bob@example.com", "eve@example.com")
PUBLIC_URL = "https://dial.contoso.example"


def _calendar_part(message: Received) -> EmailMessage:
    parts = [p for p in message.message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in message.message.walk()]
    part = parts[0]
    assert isinstance(part, EmailMessage)
    return part


def _event(message: Received) -> tuple[icalendar.Calendar, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(_calendar_part(message).get_content())
    (event,) = cal.walk("VEVENT")
    return cal, event


def _deliver(cli: Cli, smtp: SmtpServer, count: int) -> list[Received]:
    before = len(smtp.handler.messages())
    result = cli.ok("mail", "send-pending")
    assert (result["sent"], result["failed"]) == (count, 0)
    return smtp.handler.messages()[before:]


@pytest.fixture
def organizer(cli: Cli, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DIALCONF_PUBLIC_URL", PUBLIC_URL)
    seed_tenant(cli, mode="static")
    cli.ok(
        "user", "enable", ADA, "--tenant", "contoso", "--email", ADA, "--name", "Ada Lovelace",
        "--toll-free-number", "+18005550199", "--no-email",
    )  # fmt: skip
    return ADA


def test_an_invitation_reaches_every_attendee_with_a_request_that_carries_the_dial_in_block(
    cli: Cli, smtp: SmtpServer, organizer: str
) -> None:
    conference_id = cli.ok("user", "show", organizer)["conference_id"]
    meeting = cli.ok(
        "meeting", "schedule", "--organizer", organizer, "--subject", "Quarterly numbers",
        "--start", "2026-12-01T09:00", "--end", "2026-12-01T10:30", "--timezone", "America/Los_Angeles",
        "--rrule", "FREQ=MONTHLY;COUNT=3", *(x for a in ATTENDEES for x in ("--attendee", a)),
    )  # fmt: skip
    received = _deliver(cli, smtp, 2)
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(ATTENDEES)
    uids = set()
    for message in received:
        part = _calendar_part(message)
        assert part.get_param("method") == "REQUEST"
        cal, event = _event(message)
        assert str(cal["METHOD"]) == "REQUEST"
        uids.add(str(event["UID"]))
        assert int(event["SEQUENCE"]) == 0
        assert str(event["SUMMARY"]) == "Quarterly numbers"
        assert str(event["ORGANIZER"]) == f"mailto:{organizer}"
        assert sorted(str(a) for a in event["ATTENDEE"]) == [f"mailto:{a}" for a in sorted(ATTENDEES)]
        assert event["DTSTART"].params["TZID"] == "America/Los_Angeles"
        assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["America/Los_Angeles"]
        assert event["RRULE"].to_ical() == b"FREQ=MONTHLY;COUNT=3"
        description = str(event["DESCRIPTION"])
        block = description[description.index(BLOCK_RULE) :]
        assert description.endswith(block)
        spoken = f"{conference_id[:3]} {conference_id[3:6]} {conference_id[6:]}#"
        for line in (
            "+1 425-555-0100  (Seattle)  (toll)",
            "+1 800-555-0199  (US)  (toll-free)",
            f"Find a local number: {PUBLIC_URL}/dialin/contoso",
            f"Conference ID: {spoken}",
        ):
            assert line in block.splitlines()
        assert f"Conference ID: {spoken}" in message.text()  # the body says it too
        assert message.message["Subject"] == "Quarterly numbers"
    assert len(uids) == 1  # one meeting, one UID in every copy
    assert meeting["conference_id"] == conference_id


def test_cancelling_sends_a_cancel_with_the_same_uid_and_the_next_sequence(
    cli: Cli, smtp: SmtpServer, organizer: str
) -> None:
    meeting = cli.ok(
        "meeting", "schedule", "--organizer", organizer, "--subject", "Sync",
        "--start", "2026-12-01T09:00", "--end", "2026-12-01T10:00", "--attendee", ATTENDEES[0],
    )  # fmt: skip
    (request,) = _deliver(cli, smtp, 1)
    cli.ok("meeting", "cancel", str(meeting["id"]))
    (cancel,) = _deliver(cli, smtp, 1)
    assert _calendar_part(cancel).get_param("method") == "CANCEL"
    cal, event = _event(cancel)
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == str(_event(request)[1]["UID"])
    assert int(event["SEQUENCE"]) == 1
    assert cancel.message["Subject"] == "Cancelled: Sync"


def test_a_toll_free_number_the_organizer_may_not_offer_is_left_out(
    cli: Cli, smtp: SmtpServer, organizer: str
) -> None:
    # no command turns the permission off yet: set the column as an import or the API would
    engine = make_engine(cli.url)
    with engine.begin() as conn:
        conn.execute(update(User).where(User.upn == organizer).values(toll_free_allowed=False))
    engine.dispose()
    cli.ok(
        "meeting", "schedule", "--organizer", organizer, "--subject", "Sync",
        "--start", "2026-12-01T09:00", "--end", "2026-12-01T10:00", "--attendee", ATTENDEES[0],
    )  # fmt: skip
    (message,) = _deliver(cli, smtp, 1)
    description = str(_event(message)[1]["DESCRIPTION"])
    assert "toll-free" not in description
    assert "+1 425-555-0100  (Seattle)  (toll)" in description
