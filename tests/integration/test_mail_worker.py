"""`dialconf worker` and `dialconf up` as real processes, delivering to a real SMTP server.

Every wait has a timeout (tests.support.smtp.wait_for); no assertion depends on how fast anything is.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY, Cli, seed_tenant
from tests.support.outbox import outbox_rows, queue_info_mails, statuses
from tests.support.smtp import SmtpServer, WorkerProcess, smtp_server, wait_for


def seed_ada(cli: Cli) -> None:
    seed_tenant(cli)
    cli.ok(
        "user", "enable", "ada@contoso.com", "--tenant", "contoso",
        "--email", "ada@contoso.com", "--name", "Ada Lovelace", "--send-email",
    )  # fmt: skip


def worker(url: str, server: SmtpServer, *args: str) -> WorkerProcess:
    env = {"DIALCONF_DATABASE_URL": url, "DIALCONF_SECRET_KEY": TEST_KEY, **server.env()}
    return WorkerProcess(env, "worker", "--poll", "0.05", *args)


def all_sent(url: str, count: int) -> bool:
    return statuses(url).get("sent", 0) == count


def test_mail_waits_while_the_server_is_down_and_goes_out_once_when_it_comes_up(
    sqlite_cli: Cli,
) -> None:
    seed_ada(sqlite_cli)
    queue_info_mails(sqlite_cli.url, "ada@contoso.com", 4)
    server = SmtpServer()  # port reserved, not listening yet: connections are refused
    proc = worker(sqlite_cli.url, server)
    try:
        proc.wait_for_line("started")
        wait_for(
            lambda: all(r.last_error and "not sent yet" in r.last_error for r in outbox_rows(sqlite_cli.url)),
            "the worker to find the server down",
        )
        rows = outbox_rows(sqlite_cli.url)
        assert {r.status for r in rows} == {"queued"} and {r.attempts for r in rows} == {0}
        assert "cannot reach" in (rows[0].last_error or "")

        server.start()
        wait_for(lambda: all_sent(sqlite_cli.url, 5), "every message to be sent")
        proc.signal(signal.SIGTERM)
        assert proc.wait() == 0
    finally:
        proc.stop()
        server.stop()
    counts = server.handler.message_id_counts()
    assert set(counts) == {r.message_id for r in outbox_rows(sqlite_cli.url)}
    assert set(counts.values()) == {1}
    assert "SMTP server unavailable" in proc.output and "stopped (sent 5" in proc.output


def test_sigterm_stops_the_worker_between_messages_and_hands_back_the_rest(sqlite_cli: Cli) -> None:
    seed_ada(sqlite_cli)
    queue_info_mails(sqlite_cli.url, "ada@contoso.com", 29)
    with smtp_server() as server:
        server.handler.delay = 0.05
        proc = worker(sqlite_cli.url, server, "--batch-size", "10")
        try:
            wait_for(lambda: len(server.handler.messages()) >= 3, "the first messages to arrive")
            proc.signal(signal.SIGTERM)
            assert proc.wait() == 0
        finally:
            proc.stop()
    rows = outbox_rows(sqlite_cli.url)
    sent = [r for r in rows if r.status == "sent"]
    assert "stopped" in proc.output
    assert [r.status for r in rows if r.status not in ("sent", "queued")] == []
    # the message in hand was finished and recorded; the untried ones did not lose a try
    assert {r.message_id for r in sent} == set(server.handler.message_id_counts())
    assert 3 <= len(sent) < 30
    assert {r.attempts for r in rows if r.status == "queued"} == {0}


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_worker_killed_mid_batch_loses_nothing_once_restarted(
    database: str, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue("sqlite_url" if database == "sqlite" else "pg_url")
    cli = Cli(url, request.getfixturevalue("monkeypatch"), request.getfixturevalue("capsys"))
    seed_ada(cli)
    queue_info_mails(url, "ada@contoso.com", 39)
    batch = 10
    with smtp_server() as server:
        server.handler.delay = 0.05
        first = worker(url, server, "--batch-size", str(batch), "--lease", "2")
        try:
            wait_for(lambda: len(server.handler.messages()) >= 5, "the first messages of a batch")
            first.signal(signal.SIGKILL)
            assert first.wait() == -signal.SIGKILL
        finally:
            first.stop()
        arrived_before = len(server.handler.messages())
        # killed mid-batch: its claim is still held, and not every message has arrived
        assert statuses(url).get("sending", 0) > 0
        assert arrived_before < 40

        second = worker(url, server, "--batch-size", str(batch), "--lease", "2")
        try:
            wait_for(lambda: all_sent(url, 40), "every message to be sent after the restart")
            second.signal(signal.SIGTERM)
            assert second.wait() == 0
        finally:
            second.stop()
    counts = server.handler.message_id_counts()
    assert set(counts) == {r.message_id for r in outbox_rows(url)}  # none lost
    # at-least-once: only what the dead worker had claimed may have arrived twice
    assert sum(n - 1 for n in counts.values()) <= batch


@pytest.mark.postgres
def test_two_workers_on_postgresql_deliver_every_message_exactly_once(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Cli(pg_url, monkeypatch, capsys)
    seed_ada(cli)
    with smtp_server() as server:
        server.handler.delay = 0.002
        workers = [worker(pg_url, server, "--batch-size", "5") for _ in range(2)]
        try:
            for w in workers:
                w.wait_for_line("started")
            queue_info_mails(pg_url, "ada@contoso.com", 199)
            wait_for(lambda: all_sent(pg_url, 200), "every message to be sent")
            for w in workers:
                w.signal(signal.SIGTERM)
            assert [w.wait() for w in workers] == [0, 0]
        finally:
            for w in workers:
                w.stop()
    counts = server.handler.message_id_counts()
    assert set(counts) == {r.message_id for r in outbox_rows(pg_url)}
    assert max(counts.values()) == 1, [m for m, n in counts.items() if n > 1]
    sent_by = [int(re.findall(r"stopped \(sent (\d+)", w.output)[0]) for w in workers]
    assert sum(sent_by) == 200 and min(sent_by) > 0, sent_by


def test_up_delivers_to_its_embedded_mail_catcher_readable_with_mail_list_and_show(
    sqlite_cli: Cli, tmp_path: Path
) -> None:
    env = {"DIALCONF_DATABASE_URL": sqlite_cli.url, "DIALCONF_SECRET_KEY": TEST_KEY}
    up = WorkerProcess(env, "up", "--port", "0")  # any free port: tests run side by side
    try:
        up.wait_for_line("started:")
        assert re.search(r"mail catcher listening on 127\.0\.0\.1:\d+", up.output)
        assert "mail catcher on 127.0.0.1:" in up.output and "mail delivery" in up.output

        seed_ada(sqlite_cli)
        info = sqlite_cli.ok("user", "send-info", "ada@contoso.com")
        assert info["email_queued"] is True
        wait_for(lambda: all_sent(sqlite_cli.url, 2), "both mails to reach the catcher")

        mails = {m["kind"]: m for m in sqlite_cli.ok("mail", "list")}
        assert {m["status"] for m in mails.values()} == {"sent"}
        shown = sqlite_cli("mail", "show", str(mails["conference_info"]["id"]))
        assert shown.code == 0 and "Here is your audio conferencing information" in shown.out
        welcome = sqlite_cli.ok("mail", "show", str(mails["welcome"]["id"]))
        assert welcome["redacted"] is True

        caught = sorted(
            (Path(sqlite_cli.url.removeprefix("sqlite:///")).parent / "caught-mail").glob("*.eml")
        )
        assert len(caught) == 2
        assert any(mails["conference_info"]["message_id"].encode() in p.read_bytes() for p in caught)

        up.signal(signal.SIGTERM)
        assert up.wait() == 0
    finally:
        up.stop()
    assert "dialconf up: stopped" in up.output
