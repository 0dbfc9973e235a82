"""`dialconf worker` and `dialconf up` run the due migration jobs and release ended meetings' IDs.

Real processes against a real SMTP server (worker) or the embedded catcher (up); every wait has a
timeout and no assertion depends on how fast anything is.
"""

from __future__ import annotations

import signal
from typing import Any

from tests.conftest import TEST_KEY, Cli, seed_tenant
from tests.support.radicale import unreachable_calendar_url
from tests.support.smtp import WorkerProcess, smtp_server, wait_for

ADA, FAY, DEE = "ada@contoso.com", "fay@northwind.com", "dee@northwind.com"
LONDON, LONDON_TWO = "+442071234567", "+442071234568"


def _schedule(cli: Cli, organizer: str, start: str, end: str) -> dict[str, Any]:
    return cli.ok(  # type: ignore[no-any-return]
        "meeting", "schedule", "--organizer", organizer, "--subject", "Sync",
        "--start", start, "--end", end, "--attendee", "bob@example.com",
    )  # fmt: skip


def _seed(cli: Cli) -> dict[str, Any]:
    """Two jobs due (northwind's will fail, contoso's will succeed) and one ended meeting with a live ID."""
    cli.ok("tenant", "create", "northwind", "--domain", "northwind.com")
    cli.ok("bridge", "create", "northwind", "main")
    cli.ok("number", "add", "northwind", LONDON, "--city", "London")
    cli.ok("number", "add", "northwind", LONDON_TWO, "--city", "London")
    cli.ok("tenant", "set-id-mode", "northwind", "static")
    cli.ok("user", "enable", FAY, "--tenant", "northwind", "--email", FAY, "--name", "Fay", "--no-email")
    cli.ok("user", "enable", DEE, "--tenant", "northwind", "--email", DEE, "--name", "Dee", "--no-email")
    _schedule(cli, FAY, "2030-03-04T09:00", "2030-03-04T10:00")
    cli.ok("user", "set-default-number", FAY, "--toll", LONDON_TWO, "--no-email")  # a job for fay
    # northwind's calendar server is down, so fay's job fails (after re-sending her own invitation)
    cli.ok("tenant", "set", "northwind", "--caldav-url", unreachable_calendar_url())
    # dynamic IDs now (fay's meeting gets its own): dee's meeting below gets its own ID too
    cli.ok("tenant", "set-id-mode", "northwind", "dynamic")
    ended = _schedule(cli, DEE, "2020-03-02T09:00", "2020-03-02T10:00")  # its own ID, past its grace

    seed_tenant(cli)
    cli.ok("user", "enable", ADA, "--tenant", "contoso", "--email", ADA, "--name", "Ada", "--no-email")
    upcoming = _schedule(cli, ADA, "2030-03-04T09:00", "2030-03-04T10:00")
    pin = cli.ok("user", "reset-pin", ADA, "--no-email")["pin"]
    new_id = cli.ok("user", "reset-conference-id", ADA, "--no-email")["conference_id"]  # a job for ada
    assert [j["upn"] for j in cli.ok("meeting", "migration-status", "--state", "pending")] == [ADA, FAY]
    assert _lookup(cli, ended["conference_id"]) == "join"
    return {"ended": ended, "upcoming": upcoming, "pin": pin, "new_id": new_id}


def _lookup(cli: Cli, digits: str) -> str:
    return cli.ok("dialin", "lookup", "--number", LONDON, "--digits", digits)["result"]  # type: ignore[no-any-return]


def _job(cli: Cli, upn: str) -> dict[str, Any]:
    (job,) = cli.ok("meeting", "migration-status", "--upn", upn)
    return job  # type: ignore[no-any-return]


def _check_done(cli: Cli, seeded: dict[str, Any], output: str) -> None:
    failed = _job(cli, FAY)
    assert failed["state"] == "failed" and "127.0.0.1" in failed["last_message"]
    assert _job(cli, ADA)["meetings_updated"] == 1
    assert cli.ok("meeting", "show", str(seeded["upcoming"]["id"]))["conference_id"] == seeded["new_id"]
    assert _lookup(cli, seeded["ended"]["conference_id"]) == "reject"
    assert cli.ok("meeting", "expire")["released"] == 0  # already done by the running process
    assert f"migration job {_job(cli, FAY)['id']} of {FAY}: failed" in output
    assert f"migration job {_job(cli, ADA)['id']} of {ADA}: succeeded" in output
    assert f"released the conference IDs of 1 ended meeting(s): {seeded['ended']['id']}" in output
    assert seeded["pin"] not in output


def test_the_worker_runs_due_jobs_past_a_failing_one_and_releases_ended_meetings_ids(cli: Cli) -> None:
    seeded = _seed(cli)
    with smtp_server() as server:
        env = {"DIALCONF_DATABASE_URL": cli.url, "DIALCONF_SECRET_KEY": TEST_KEY, **server.env()}
        proc = WorkerProcess(env, "worker", "--poll", "0.05", "--meeting-interval", "0.2")
        try:
            proc.wait_for_line("started")
            wait_for(lambda: _job(cli, ADA)["state"] == "succeeded", "ada's job to succeed")
            wait_for(lambda: "released the conference IDs" in proc.output, "the ended meeting's ID to be released")
            # the re-sent invitations (ada's, and fay's before her calendar step failed) are delivered
            # by the same process
            wait_for(lambda: len(server.handler.for_recipient("bob@example.com")) == 5, "the invitations")
            assert proc.proc.poll() is None  # fay's failure did not stop it
            proc.signal(signal.SIGTERM)
            assert proc.wait() == 0
        finally:
            proc.stop()
    _check_done(cli, seeded, proc.output)
    calendars = [
        part.get_content().replace("\r\n ", "").replace("\n ", "")  # unfolded
        for received in server.handler.for_recipient("bob@example.com")
        for part in received.message.walk()
        if part.get_content_type() == "text/calendar"
    ]
    new_id = seeded["new_id"]
    (resent,) = [c for c in calendars if f"{new_id[:3]} {new_id[3:6]} {new_id[6:]}#" in c]
    assert "SEQUENCE:1" in resent and "METHOD:REQUEST" in resent
    assert "migration jobs run 2, meeting IDs released 1" in proc.output


def test_up_runs_due_jobs_and_releases_ended_meetings_ids(sqlite_cli: Cli) -> None:
    seeded = _seed(sqlite_cli)
    env = {"DIALCONF_DATABASE_URL": sqlite_cli.url, "DIALCONF_SECRET_KEY": TEST_KEY}
    up = WorkerProcess(env, "up", "--port", "0", "--agi-listen", "off")
    try:
        up.wait_for_line("started:")
        assert "meeting jobs every 30 s" in up.output
        wait_for(lambda: _job(sqlite_cli, ADA)["state"] == "succeeded", "ada's job to succeed")
        wait_for(lambda: "released the conference IDs" in up.output, "the ended meeting's ID to be released")
        assert up.proc.poll() is None
        up.signal(signal.SIGTERM)
        assert up.wait() == 0
    finally:
        up.stop()
    _check_done(sqlite_cli, seeded, up.output)
