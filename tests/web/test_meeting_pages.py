"""Audio conferencing → Meetings without a browser: the list, the schedule form, cancel, migrations, roles."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient

from tests.conftest import ENABLE_ADA
from tests.support.radicale import unreachable_calendar_url
from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, WebWorld, sign_in

ADA = "ada@contoso.com"
GRACE = "grace@contoso.com"
UPCOMING = ("--start", "2030-03-04T09:00", "--end", "2030-03-04T10:00", "--timezone", "Europe/Paris")


def _enable(world: WebWorld) -> str:
    """Ada (with her welcome mail) and Grace; returns Ada's conference ID."""
    world.cli.ok(*ENABLE_ADA)
    world.cli.ok(
        "user", "enable", GRACE, "--tenant", "contoso", "--email", GRACE, "--name", "Grace", "--no-email"
    )
    return str(world.cli.ok("user", "show", ADA)["conference_id"])


def _schedule(world: WebWorld, subject: str, *when: str, organizer: str = ADA) -> int:
    made = world.cli.ok(
        "meeting", "schedule", "--organizer", organizer, "--subject", subject, *(when or UPCOMING),
        "--attendee", "bob@example.com",
    )  # fmt: skip
    return int(made["id"])


def _spoken(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}#"


def _field_error(html: str, name: str) -> str:
    match = re.search(rf'id="e-{name}">([^<]+)<', html)
    assert match, html
    return unescape(match.group(1))


def test_the_meetings_page_lists_upcoming_meetings_with_their_local_start_and_conference_id(
    web_world: WebWorld, client: TestClient
) -> None:
    digits = _enable(web_world)
    _schedule(web_world, "Weekly sync")
    _schedule(web_world, "Old review", "--start", "2020-03-02T09:00", "--end", "2020-03-02T10:00")
    gone = _schedule(web_world, "Called off")
    web_world.cli.ok("meeting", "cancel", str(gone))
    sign_in(client, HELPDESK)
    page = client.get("/meetings")
    assert page.status_code == 200
    assert 'aria-current="page">Meetings<' in page.text  # the nav entry under Audio conferencing
    row = re.search(r"<tr>\s*<td><a href=\"/meetings/\d+\">Weekly sync</a>.*?</tr>", page.text, re.S)
    assert row, page.text
    assert ADA in row.group() and "2030-03-04 09:00" in row.group() and "Europe/Paris" in row.group()
    assert _spoken(digits) in row.group() and "scheduled" in row.group()
    assert "Old review" not in page.text and "Called off" not in page.text
    # helpdesk sees no schedule form link
    assert "/meetings/new" not in page.text


def test_the_organizer_filter_shows_one_organizers_meetings_and_names_an_unknown_one_beside_the_field(
    web_world: WebWorld, client: TestClient
) -> None:
    _enable(web_world)
    _schedule(web_world, "Ada's sync")
    _schedule(web_world, "Grace's review", organizer=GRACE)
    sign_in(client, ADMIN)
    page = client.get(f"/meetings?organizer={GRACE}")
    assert "Grace&#39;s review" in page.text and "Ada&#39;s sync" not in page.text
    unknown = client.get("/meetings?organizer=nobody@contoso.com")
    assert unknown.status_code == 404
    assert _field_error(unknown.text, "organizer") == "user 'nobody@contoso.com' does not exist"
    assert 'aria-invalid="true" aria-describedby="e-organizer"' in unknown.text


def test_the_schedule_form_schedules_and_refuses_bad_input_beside_the_field_in_the_clis_words(
    web_world: WebWorld, client: TestClient
) -> None:
    digits = _enable(web_world)
    csrf = sign_in(client, ADMIN)
    form = {
        "csrf": csrf,
        "organizer": ADA,
        "subject": "Planning",
        "start": "2030-05-06T14:00",
        "end": "2030-05-06T13:00",
        "timezone": "America/New_York",
        "attendees": "bob@example.com\neve@example.com",
    }
    refused = client.post("/meetings", data=form)
    assert refused.status_code == 422
    cli = web_world.cli(
        "meeting", "schedule", "--organizer", ADA, "--subject", "Planning", "--start", form["start"],
        "--end", form["end"], "--timezone", form["timezone"],
    )  # fmt: skip
    assert cli.code == 1
    assert _field_error(refused.text, "end") == cli.err.strip().removeprefix("dialconf: ")
    assert 'value="Planning"' in refused.text  # what was typed stays
    beside = {
        "timezone": ({"timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus' (use an IANA name such as Europe/Paris)"),
        "attendees": ({"attendees": "bob at example"}, "attendee 'bob at example' is not an email address"),
        "organizer": ({"organizer": "nobody@contoso.com"}, "user 'nobody@contoso.com' does not exist"),
    }
    for field, (change, words) in beside.items():
        answer = client.post("/meetings", data={**form, "end": "2030-05-06T15:00", **change})
        assert answer.status_code in (404, 422) and _field_error(answer.text, field) == words
    assert web_world.cli.ok("meeting", "list", "--cancelled") == []

    done = client.post("/meetings", data={**form, "end": "2030-05-06T15:00"})
    assert done.status_code == 303
    (made,) = web_world.cli.ok("meeting", "list")
    assert done.headers["location"] == f"/meetings/{made['id']}?done=scheduled"
    assert made["start"] == "2030-05-06T14:00:00-04:00" and made["attendees"] == ["bob@example.com", "eve@example.com"]
    shown = client.get(done.headers["location"]).text
    assert "Meeting scheduled" in shown and _spoken(digits) in shown


def test_cancel_without_javascript_asks_first_then_cancels_and_htmx_gets_the_view_alone(
    web_world: WebWorld, client: TestClient
) -> None:
    _enable(web_world)
    first, second = _schedule(web_world, "First"), _schedule(web_world, "Second")
    csrf = sign_in(client, ADMIN)
    view = client.get(f"/meetings/{first}").text
    assert f'href="/meetings/{first}?confirm=cancel"' in view and 'role="dialog"' not in view
    dialog = client.get(f"/meetings/{first}?confirm=cancel").text
    assert 'role="dialog"' in dialog and "Cancel meeting?" in dialog
    assert client.post(f"/meetings/{first}/cancel", data={}).status_code == 403  # no CSRF token
    assert web_world.cli.ok("meeting", "show", str(first))["status"] == "scheduled"
    answer = client.post(f"/meetings/{first}/cancel", data={"csrf": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == f"/meetings/{first}?done=cancelled"
    assert web_world.cli.ok("meeting", "show", str(first))["status"] == "cancelled"
    assert "Cancel meeting" not in client.get(f"/meetings/{first}").text

    htmx = client.post(f"/meetings/{second}/cancel", data={"csrf": csrf}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200
    assert htmx.text.lstrip().startswith('<section id="meeting"') and "<html" not in htmx.text
    assert 'id="meeting-status" class="badge cancelled"' in htmx.text
    again = client.post(f"/meetings/{second}/cancel", data={"csrf": csrf}, headers={"HX-Request": "true"})
    assert f"meeting {second} is already cancelled" in again.text


def test_helpdesk_sees_no_cancel_or_migrate_and_its_posts_are_refused(web_world: WebWorld, client: TestClient) -> None:
    _enable(web_world)
    meeting = _schedule(web_world, "Sync")
    csrf = sign_in(client, HELPDESK)
    view = client.get(f"/meetings/{meeting}?confirm=cancel").text
    assert "Sync" in view and "Cancel meeting" not in view and 'role="dialog"' not in view
    assert "Migrate now" not in client.get("/meetings/migrations").text
    assert "Migrate now" not in client.get(f"/users/{ADA}").text
    assert client.post(f"/meetings/{meeting}/cancel", data={"csrf": csrf}).status_code == 403
    assert client.post("/meetings/migrations", data={"csrf": csrf, "upn": ADA}).status_code == 403
    form = {"csrf": csrf, "organizer": ADA, "subject": "X", "start": "2030-01-01T09:00", "end": "2030-01-01T10:00"}
    assert client.post("/meetings", data=form).status_code == 403
    assert web_world.cli.ok("meeting", "show", str(meeting))["status"] == "scheduled"
    assert len(web_world.cli.ok("meeting", "list")) == 1
    assert web_world.cli.ok("meeting", "migration-status") == []


def test_another_tenants_meeting_page_is_the_same_404_as_a_meeting_nobody_holds(
    web_world: WebWorld, client: TestClient
) -> None:
    cli = web_world.cli
    cli.ok("tenant", "create", "fabrikam", "--domain", "fabrikam.com")
    cli.ok("tenant", "set-id-mode", "fabrikam", "static")
    cli.ok("bridge", "create", "fabrikam", "main")
    cli.ok("number", "add", "fabrikam", "+13125550100", "--city", "Chicago")
    cli.ok("user", "enable", "bob@fabrikam.com", "--tenant", "fabrikam", "--email", "bob@fabrikam.com", "--name", "Bob")
    theirs = _schedule(web_world, "Secret plans", organizer="bob@fabrikam.com")
    csrf = sign_in(client, ADMIN)
    for meeting in (theirs, theirs + 1000):
        page = client.get(f"/meetings/{meeting}")
        assert page.status_code == 404 and f"meeting {meeting} does not exist" in page.text
        assert "Secret plans" not in page.text and "Chicago" not in page.text
        assert client.post(f"/meetings/{meeting}/cancel", data={"csrf": csrf}).status_code == 404
    assert "Secret plans" not in client.get("/meetings").text
    assert cli.ok("meeting", "show", str(theirs))["status"] == "scheduled"
    # the operator picks the tenant and sees it
    client.post("/signout", data={"csrf": csrf})
    sign_in(client, OPERATOR)
    assert "Secret plans" in client.get("/meetings?tenant=fabrikam").text


def test_the_migrations_view_counts_jobs_by_state_and_migrate_now_runs_one(
    web_world: WebWorld, client: TestClient
) -> None:
    _enable(web_world)
    _schedule(web_world, "Sync")
    web_world.cli.ok("user", "reset-conference-id", ADA, "--no-email")  # queues a job (static mode)
    csrf = sign_in(client, ADMIN)
    page = client.get("/meetings/migrations").text
    counts = {state: n for n, state in re.findall(r'count-value">(\d+)</span> <span class="badge (\w+)"', page)}
    assert counts == {"pending": "1", "in_progress": "0", "succeeded": "0", "failed": "0"}
    assert "conference ID reset" in page and "UTC</time>" in page  # reason and next try

    answer = client.post("/meetings/migrations", data={"csrf": csrf, "upn": ADA})
    assert answer.status_code == 303
    after = client.get(answer.headers["location"]).text
    assert "Migration run" in after and "1 upcoming meeting(s) updated and re-sent" in after
    (job,) = web_world.cli.ok("meeting", "migration-status", "--upn", ADA)
    assert job["state"] == "succeeded"
    pending_only = client.get("/meetings/migrations?state=pending").text
    assert "No migration job matches" in pending_only

    # the tenant's calendar server is down: a run now fails at its calendar step
    url = unreachable_calendar_url()
    web_world.cli.ok("tenant", "set", "contoso", "--caldav-url", url)
    failed = client.post("/meetings/migrations", data={"csrf": csrf, "upn": ADA})
    assert failed.status_code == 409
    cli = web_world.cli("meeting", "migrate", ADA)
    assert cli.code == 1

    def words(text: str) -> str:  # the same words, whatever the job number
        return re.sub(r"job \d+", "job N", text.strip().removeprefix("dialconf: "))

    assert words(_field_error(failed.text, "migrate-upn")) == words(cli.err)
    assert url.removeprefix("http://").split("/")[0] in cli.err
    unknown = client.post("/meetings/migrations", data={"csrf": csrf, "upn": "nobody@contoso.com"})
    assert unknown.status_code == 404
    assert _field_error(unknown.text, "migrate-upn") == "user 'nobody@contoso.com' does not exist"


def test_the_user_pane_shows_the_number_of_upcoming_meetings_with_a_link(
    web_world: WebWorld, client: TestClient
) -> None:
    _enable(web_world)
    _schedule(web_world, "One")
    _schedule(web_world, "Two")
    _schedule(web_world, "Past", "--start", "2020-03-02T09:00", "--end", "2020-03-02T10:00")
    sign_in(client, ADMIN)
    pane = client.get(f"/users/{ADA}/pane").text
    assert re.search(r'id="upcoming-meetings">2<', pane)
    assert 'href="/meetings?organizer=ada%40contoso.com"' in pane and "Migrate now" in pane
    assert re.search(r'id="upcoming-meetings">0<', client.get(f"/users/{GRACE}/pane").text)
