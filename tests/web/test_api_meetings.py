"""The meetings part of the REST API: the CLI's --json for the same meeting or job, and the same rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.support.radicale import unreachable_calendar_url
from tests.web.api_world import ADA, BOB, FABRIKAM_ADMIN, ODD, ApiWorld, seed_api_world
from tests.web.conftest import ADMIN, HELPDESK, OPERATOR, WebWorld

PROBLEM = "application/problem+json"
SYNC = {
    "organizer": ADA,
    "subject": "Weekly sync",
    "start": "2030-03-04T09:00",
    "end": "2030-03-04T10:00",
    "timezone": "Europe/Paris",
    "rrule": "FREQ=WEEKLY;COUNT=4",
    "attendees": ["bob@example.com", "eve@example.com"],
}


@pytest.fixture
def world(web_world: WebWorld) -> ApiWorld:
    return seed_api_world(web_world)


def _problem(answer: Any, status: int, type_: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body: dict[str, Any] = answer.json()
    assert body["type"] == type_ and body["status"] == status and body["detail"]
    return body


def _migrate(upn: str) -> str:
    return "/api/v1/users/" + quote(upn, safe="@") + "/meetings/migrate"


def test_a_meeting_scheduled_through_the_api_answers_201_with_the_fields_of_meeting_show_json(
    client: TestClient, world: ApiWorld
) -> None:
    cli, h = world.web.cli, world.bearer(ADMIN)
    mails_before = len(cli.ok("mail", "list", "--tenant", "contoso"))
    answer = client.post("/api/v1/meetings", json=SYNC, headers=h)
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert made == cli.ok("meeting", "show", str(made["id"]))
    assert made["start"] == "2030-03-04T09:00:00+01:00" and made["timezone"] == "Europe/Paris"
    assert made["rrule"] == "FREQ=WEEKLY;COUNT=4" and made["status"] == "scheduled"
    # static mode: the organizer's own conference ID
    assert made["conference_id"] == world.facts["ada"]["conference_id"]
    mails = cli.ok("mail", "list", "--tenant", "contoso")
    assert len(mails) == mails_before + 2
    assert {m["to"] for m in mails[:2]} == {"bob@example.com", "eve@example.com"}
    assert {m["kind"] for m in mails[:2]} == {"meeting_request"}

    assert client.get(f"/api/v1/meetings/{made['id']}", headers=world.bearer(HELPDESK)).json() == made
    listed = client.get("/api/v1/meetings?tenant=contoso", headers=h).json()
    assert listed["items"] == cli.ok("meeting", "list", "--tenant", "contoso")
    assert listed["next_cursor"] is None
    assert client.get(f"/api/v1/meetings?organizer={ADA}&upcoming=true", headers=h).json()["items"] == cli.ok(
        "meeting", "list", "--organizer", ADA, "--upcoming"
    )


def test_bad_input_is_refused_with_the_clis_words_and_changes_nothing(client: TestClient, world: ApiWorld) -> None:
    cli, h = world.web.cli, world.bearer(ADMIN)
    before = cli.ok("meeting", "list", "--cancelled")
    cases = {
        "end": {"end": "2030-03-04T08:00"},
        "timezone": {"timezone": "Mars/Olympus"},
        "rrule": {"rrule": "FREQ=SOMETIMES"},
        "attendee": {"attendees": ["not an address"]},
        "organizer": {"organizer": "nobody@contoso.com"},
    }
    for what, change in cases.items():
        body = {**SYNC, **change}
        answer = client.post("/api/v1/meetings", json=body, headers=h)
        assert 400 <= answer.status_code < 500 and answer.headers["content-type"] == PROBLEM, (what, answer.text)
        args = ["meeting", "schedule", "--organizer", body["organizer"], "--subject", body["subject"]]
        args += ["--start", body["start"], "--end", body["end"], "--timezone", body["timezone"]]
        args += ["--rrule", body["rrule"]] + [a for addr in body["attendees"] for a in ("--attendee", addr)]
        refused = cli(*args)
        assert refused.code == 1, what
        assert answer.json()["detail"] == refused.err.strip().removeprefix("dialconf: "), what
    assert cli.ok("meeting", "list", "--cancelled") == before
    _problem(client.post("/api/v1/meetings", json={**SYNC, "end": "2030-03-04T08:00"}, headers=h), 422, "/errors/invalid-input")
    _problem(client.post("/api/v1/meetings", json={**SYNC, "organizer": "x@contoso.com"}, headers=h), 404, "/errors/user-not-found")


def test_unknown_body_fields_are_refused_not_ignored(client: TestClient, world: ApiWorld) -> None:
    answer = client.post("/api/v1/meetings", json={**SYNC, "attendee": "bob@example.com"}, headers=world.bearer(ADMIN))
    body = _problem(answer, 422, "/errors/request-validation")
    assert body["errors"][0]["loc"][-1] == "attendee"


def test_cancelling_sends_a_cancellation_and_a_second_cancel_is_a_409(client: TestClient, world: ApiWorld) -> None:
    cli, h = world.web.cli, world.bearer(ADMIN)
    made = client.post("/api/v1/meetings", json=SYNC, headers=h).json()
    answer = client.post(f"/api/v1/meetings/{made['id']}/cancel", headers=h)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {**made, "status": "cancelled"}
    assert answer.json() == cli.ok("meeting", "show", str(made["id"]))
    assert {m["kind"] for m in cli.ok("mail", "list", "--tenant", "contoso")[:2]} == {"meeting_cancel"}
    assert made["id"] not in [m["id"] for m in client.get("/api/v1/meetings", headers=h).json()["items"]]
    listed = client.get("/api/v1/meetings?cancelled=true", headers=h).json()["items"]
    assert made["id"] in [m["id"] for m in listed]
    _problem(client.post(f"/api/v1/meetings/{made['id']}/cancel", headers=h), 409, "/errors/conflict")


def test_helpdesk_lists_and_shows_but_may_not_schedule_cancel_or_migrate(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(HELPDESK)
    meeting = world.facts["contoso_meeting"]
    assert client.get(f"/api/v1/meetings/{meeting}", headers=h).status_code == 200
    _problem(client.post("/api/v1/meetings", json=SYNC, headers=h), 403, "/errors/forbidden")
    _problem(client.post(f"/api/v1/meetings/{meeting}/cancel", headers=h), 403, "/errors/forbidden")
    _problem(client.post(_migrate(ODD), headers=h), 403, "/errors/forbidden")
    assert world.web.cli.ok("meeting", "show", str(meeting))["status"] == "scheduled"
    assert world.web.cli.ok("meeting", "migration-status") == []


def test_another_tenants_meeting_is_404_like_one_nobody_holds_and_never_listed(
    client: TestClient, world: ApiWorld
) -> None:
    h = world.bearer(ADMIN)
    theirs, nobodys = world.facts["fabrikam_meeting"], world.facts["fabrikam_meeting"] + 1000
    for meeting in (theirs, nobodys):
        body = _problem(client.get(f"/api/v1/meetings/{meeting}", headers=h), 404, "/errors/meeting-not-found")
        assert body["detail"] == f"meeting {meeting} does not exist"
        _problem(client.post(f"/api/v1/meetings/{meeting}/cancel", headers=h), 404, "/errors/meeting-not-found")
    listed = client.get("/api/v1/meetings?cancelled=true", headers=h).json()["items"]
    assert [m["id"] for m in listed] == [world.facts["contoso_meeting"]]
    assert BOB not in client.get("/api/v1/meetings", headers=h).text
    # fabrikam's admin and the operator do see it
    assert client.get(f"/api/v1/meetings/{theirs}", headers=world.bearer(FABRIKAM_ADMIN)).json()["organizer"] == BOB
    every = client.get("/api/v1/meetings", headers=world.bearer(OPERATOR)).json()["items"]
    assert {m["organizer"] for m in every} == {ODD, BOB}
    # a cursor that names their meeting is refused exactly as one that names no meeting
    a = _problem(client.get(f"/api/v1/meetings?cursor={theirs}", headers=h), 422, "/errors/invalid-input")
    b = _problem(client.get(f"/api/v1/meetings?cursor={nobodys}", headers=h), 422, "/errors/invalid-input")
    assert a["detail"].replace(str(theirs), "N") == b["detail"].replace(str(nobodys), "N")


def test_the_meeting_list_pages_by_start_with_a_cursor(client: TestClient, world: ApiWorld) -> None:
    h = world.bearer(ADMIN)
    # scheduled out of order: the list goes by start
    for day in ("06", "02", "04", "03", "05"):
        body = {**SYNC, "rrule": None, "attendees": [], "start": f"2031-01-{day}T09:00", "end": f"2031-01-{day}T10:00"}
        assert client.post("/api/v1/meetings", json=body, headers=h).status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        url = f"/api/v1/meetings?organizer={ADA}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=h).json()
        assert len(page["items"]) <= 2
        seen += [m["start"][:10] for m in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"2031-01-0{d}" for d in range(2, 7)] and pages == 3
    _problem(client.get("/api/v1/meetings?cursor=abc", headers=h), 422, "/errors/invalid-input")
    _problem(client.get("/api/v1/meetings?limit=0", headers=h), 422, "/errors/request-validation")


def test_migration_jobs_answer_like_migration_status_json(client: TestClient, world: ApiWorld) -> None:
    cli, h = world.web.cli, world.bearer(ADMIN)
    client.post("/api/v1/meetings", json={**SYNC, "organizer": ODD}, headers=h)
    cli.ok("user", "reset-conference-id", ODD, "--no-email")  # static mode: queues a job for odd
    pending = client.get("/api/v1/meeting-migrations?state=pending", headers=world.bearer(HELPDESK))
    assert pending.status_code == 200, pending.text
    assert pending.json() == cli.ok("meeting", "migration-status", "--state", "pending")
    (job,) = pending.json()
    assert (job["upn"], job["state"], job["attempts"]) == (ODD, "pending", 0) and job["next_attempt_at"]
    summary = client.get("/api/v1/meeting-migrations/summary", headers=h).json()
    assert summary == cli.ok("meeting", "migration-status", "--summary")
    assert summary == {"pending": 1, "in_progress": 0, "succeeded": 0, "failed": 0}

    ran = client.post(_migrate(ODD), headers=h)
    assert ran.status_code == 200, ran.text
    done = ran.json()
    assert (done["state"], done["meetings_updated"], done["next_attempt_at"]) == ("succeeded", 2, None)
    assert [done] == cli.ok("meeting", "migration-status", "--upn", ODD, "--state", "succeeded")[:1]
    assert client.get(f"/api/v1/meeting-migrations?upn={quote(ODD, safe='')}", headers=h).json() == cli.ok(
        "meeting", "migration-status", "--upn", ODD
    )
    _problem(client.get("/api/v1/meeting-migrations?state=stuck", headers=h), 422, "/errors/request-validation")


def test_a_migration_that_fails_is_a_409_with_the_clis_words_and_stays_queued(
    client: TestClient, world: ApiWorld
) -> None:
    cli, h = world.web.cli, world.bearer(ADMIN)
    # the tenant's calendar server is down: a run fails at its calendar step
    url = unreachable_calendar_url()
    server = url.removeprefix("http://").split("/")[0]
    cli.ok("tenant", "set", "contoso", "--caldav-url", url)
    body = _problem(client.post(_migrate(ODD), headers=h), 409, "/errors/migration-failed")
    assert server in body["detail"] and body["detail"].endswith("it will be tried again")
    refused = cli("meeting", "migrate", ODD)
    assert refused.code == 1 and server in refused.err
    jobs = client.get("/api/v1/meeting-migrations?state=failed", headers=h).json()
    # the second try reuses the failed job rather than queueing another
    assert [(j["attempts"], bool(j["next_attempt_at"])) for j in jobs] == [(2, True)]
    assert client.get("/api/v1/meeting-migrations/summary", headers=h).json()["failed"] == 1
