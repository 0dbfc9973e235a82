"""Delivering the outbox to a real SMTP server (aiosmtpd on 127.0.0.1), on SQLite and PostgreSQL.

The CLI runs in this process; `dialconf mail send-pending` makes one delivery pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from dialconf.services.outbox import REDACTED_NOTE
from tests.conftest import Cli, seed_tenant
from tests.support.outbox import outbox_rows
from tests.support.smtp import Received, SmtpServer

SENDER = "dialin@contoso.com"
SENDER_NAME = "Contoso Audio"
TOLL = "+1 425-555-0100"
TOLL_FREE = "+1 800-555-0199"
NEW_TOLL = "+1 425-555-0111"
MIGRATION = "How to update your existing meetings"



def spoken(digits: str) -> str:
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}#"


def send_pending(cli: Cli, *args: str) -> dict[str, int]:
    return cli.ok("mail", "send-pending", *args)  # type: ignore[no-any-return]


def seed_ada(cli: Cli) -> dict:
    seed_tenant(cli)
    cli.ok("tenant", "set", "contoso", "--email-from", SENDER, "--email-from-name", SENDER_NAME)
    return cli.ok(
        "user", "enable", "ada@contoso.com", "--tenant", "contoso",
        "--email", "ada@contoso.com", "--name", "Ada Lovelace", "--country", "US",
    )  # fmt: skip


def only(items: list[Received]) -> Received:
    assert len(items) == 1, f"expected one message, got {len(items)}"
    return items[0]


def everything_in(message: Received) -> str:
    """Headers, raw bytes and decoded parts together: a PIN hidden by an encoding is still found."""
    return "\n".join(
        [message.data.decode("utf-8", "replace"), str(message.message), message.text(), message.html()]
    )


@dataclass
class Story:
    """One user through every email of DESIGN §5, each delivered to the SMTP server."""

    welcome: Received
    pin_reset: Received
    id_changed: Received
    number_changed: Received
    info: Received
    removed: Received
    welcome_pin: str
    reset_pin: str
    first_id: str
    new_id: str


@pytest.fixture
def story(cli: Cli, smtp: SmtpServer) -> Story:
    ada = seed_ada(cli)
    cli.ok("number", "add", "contoso", "+14255550111", "--city", "Redmond")
    reset_pin = cli.ok("user", "reset-pin", "ada@contoso.com", "--to", "pins@contoso.com")["pin"]
    new_id = cli.ok("user", "reset-conference-id", "ada@contoso.com", "--to", "helpdesk@contoso.com")[
        "conference_id"
    ]
    cli.ok("user", "set-default-number", "ada@contoso.com", "--toll", "+14255550111")
    cli.ok("user", "send-info", "ada@contoso.com", "--to", "boss@contoso.com")
    cli.ok("user", "disable", "ada@contoso.com")

    result = send_pending(cli)
    assert result == {"sent": 6, "deferred": 0, "failed": 0, "not_attempted": 0, "server_error": None}

    def kind(name: str) -> Received:
        subjects = {m["kind"]: m["message_id"] for m in cli.ok("mail", "list")}
        return only([r for r in smtp.handler.messages() if r.message_id == subjects[name]])

    welcome = kind("welcome")
    match = re.search(r"Your leader PIN: (\d+)", welcome.text())
    assert match, welcome.text()
    return Story(
        welcome=welcome,
        pin_reset=kind("pin_reset"),
        id_changed=kind("conference_id_changed"),
        number_changed=kind("default_number_changed"),
        info=kind("conference_info"),
        removed=kind("dialin_removed"),
        welcome_pin=match.group(1),
        reset_pin=reset_pin,
        first_id=ada["conference_id"],
        new_id=new_id,
    )


def test_every_kind_arrives_once_from_the_tenant_sender_with_text_and_html(
    story: Story, smtp: SmtpServer
) -> None:
    messages = smtp.handler.messages()
    assert len(messages) == 6
    assert len({m.message_id for m in messages}) == 6
    for m in messages:
        assert m.mail_from == SENDER
        assert str(m.message["From"]) == f"{SENDER_NAME} <{SENDER}>"
        assert m.message.get_content_type() == "multipart/alternative"
        assert m.message["Date"] is not None and m.message["Auto-Submitted"] == "auto-generated"
        html = m.html()
        assert "<script" not in html.lower() and "javascript:" not in html.lower()
        assert 'style="' in html and "<style" not in html.lower()
        assert "Ada Lovelace" in m.text() and "Ada Lovelace" in html


def test_each_mail_goes_to_the_primary_address_or_the_override_with_a_clear_subject(story: Story) -> None:
    expected = [
        (story.welcome, "ada@contoso.com", "You can now join Contoso Audio meetings by phone"),
        (story.pin_reset, "pins@contoso.com", "Your audio conferencing PIN has been reset"),
        (story.id_changed, "helpdesk@contoso.com", "Your conference ID has changed"),
        (story.number_changed, "ada@contoso.com", "Your dial-in number has changed"),
        (story.info, "boss@contoso.com", "Your audio conferencing information"),
        (story.removed, "ada@contoso.com", "Dial-in audio conferencing has been removed from your meetings"),
    ]
    for message, to, subject in expected:
        assert message.rcpt_tos == (to,)
        assert str(message.message["To"]) == to
        assert message.message["Subject"] == subject


def test_each_mail_carries_what_the_design_table_says(story: Story) -> None:
    # DESIGN §5: conference ID | default numbers | PIN | how to update existing meetings
    for part in (story.welcome.text(), story.welcome.html()):
        assert spoken(story.first_id) in part and TOLL in part and TOLL_FREE in part
        assert story.welcome_pin in part and MIGRATION in part
    for part in (story.id_changed.text(), story.id_changed.html()):
        assert spoken(story.new_id) in part and TOLL in part and TOLL_FREE in part
        assert MIGRATION in part
    for part in (story.number_changed.text(), story.number_changed.html()):
        assert spoken(story.new_id) in part and NEW_TOLL in part and TOLL_FREE in part
        assert MIGRATION in part
    for part in (story.pin_reset.text(), story.pin_reset.html()):
        assert spoken(story.first_id) in part and TOLL in part
        assert story.reset_pin in part and MIGRATION not in part
    for part in (story.info.text(), story.info.html()):
        assert spoken(story.new_id) in part and NEW_TOLL in part and TOLL_FREE in part
        assert MIGRATION in part
    for part in (story.removed.text(), story.removed.html()):
        assert MIGRATION in part and "removes the dial-in block" in part
        assert NEW_TOLL not in part and TOLL_FREE not in part


def test_mails_without_a_pin_carry_no_pin_anywhere(story: Story) -> None:
    for message in (story.id_changed, story.info, story.number_changed, story.removed):
        everything = everything_in(message)
        assert story.welcome_pin not in everything, message.message["Subject"]
        assert story.reset_pin not in everything, message.message["Subject"]
        assert "leader PIN:" not in everything


def test_pin_mails_are_redacted_once_delivered_and_mail_show_says_so(story: Story, cli: Cli) -> None:
    # the user got the PIN: redaction happens only after the server accepted the message
    assert story.reset_pin in story.pin_reset.text() and story.welcome_pin in story.welcome.text()
    rows = {r.kind: r for r in outbox_rows(cli.url)}
    for kind, pin in (("welcome", story.welcome_pin), ("pin_reset", story.reset_pin)):
        row = rows[kind]
        assert row.status == "sent" and row.redacted
        assert pin not in row.body_text and pin not in row.body_html
        shown = cli.ok("mail", "show", str(row.id))
        assert shown["redacted"] is True and shown["body_text"] == REDACTED_NOTE
        human = cli("mail", "show", str(row.id))
        assert human.code == 0 and "Its body was removed from the outbox" in human.out
    info = rows["conference_info"]
    assert not info.redacted and spoken(story.new_id) in info.body_text


def test_one_connection_carries_a_whole_pass(cli: Cli, smtp: SmtpServer) -> None:
    seed_ada(cli)
    for i in range(4):
        cli.ok("user", "send-info", "ada@contoso.com", "--to", f"r{i}@contoso.com")
    assert send_pending(cli)["sent"] == 5
    peers = {m.peer for m in smtp.handler.messages()}
    assert len(smtp.handler.messages()) == 5 and len(peers) == 1


def test_nothing_due_sends_nothing(cli: Cli, smtp: SmtpServer) -> None:
    seed_ada(cli)
    assert send_pending(cli)["sent"] == 1
    assert send_pending(cli) == {
        "sent": 0,
        "deferred": 0,
        "failed": 0,
        "not_attempted": 0,
        "server_error": None,
    }
    assert len(smtp.handler.messages()) == 1


def test_temporary_refusals_are_retried_until_accepted(cli: Cli, smtp: SmtpServer) -> None:
    seed_ada(cli)
    send_pending(cli)
    cli.ok("user", "send-info", "ada@contoso.com")
    smtp.handler.data_replies.extend(["451 4.3.0 Try again later", "451 4.3.0 Try again later"])

    assert send_pending(cli)["deferred"] == 1
    [mail] = [m for m in cli.ok("mail", "list") if m["kind"] == "conference_info"]
    assert mail["status"] == "queued" and mail["attempts"] == 1
    assert "451 4.3.0 Try again later" in mail["last_error"]

    # still waiting out its backoff: a plain pass leaves it alone, --now takes it
    assert send_pending(cli) == {
        "sent": 0,
        "deferred": 0,
        "failed": 0,
        "not_attempted": 0,
        "server_error": None,
    }
    assert send_pending(cli, "--now")["deferred"] == 1
    assert send_pending(cli, "--now")["sent"] == 1

    shown = cli.ok("mail", "show", str(mail["id"]))
    assert shown["status"] == "sent" and shown["attempts"] == 3
    assert smtp.handler.refused == 2
    assert smtp.handler.message_id_counts()[mail["message_id"]] == 1


def test_temporary_failures_give_up_after_the_bounded_number_of_tries(cli: Cli, smtp: SmtpServer) -> None:
    seed_ada(cli)
    smtp.handler.data_replies.extend(["452 4.2.2 Mailbox full"] * 3)
    assert send_pending(cli, "--max-attempts", "2")["deferred"] == 1
    assert send_pending(cli, "--now", "--max-attempts", "2")["failed"] == 1
    [failed] = cli.ok("mail", "list", "--status", "failed")
    assert failed["attempts"] == 2
    assert (
        "gave up after 2 tries" in failed["last_error"] and "452 4.2.2 Mailbox full" in failed["last_error"]
    )
    assert smtp.handler.messages() == []


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_permanent_refusal_fails_at_once_with_the_reply_and_can_be_retried(
    cli: Cli, smtp: SmtpServer, stage: str
) -> None:
    seed_ada(cli)
    send_pending(cli)
    cli.ok("user", "send-info", "ada@contoso.com", "--to", "nobody@contoso.com")
    reply = "550 5.1.1 <nobody@contoso.com>: Recipient address rejected: User unknown"
    if stage == "RCPT":
        smtp.handler.refuse_rcpt["nobody@contoso.com"] = reply
    else:
        smtp.handler.data_replies.append(reply)

    assert send_pending(cli)["failed"] == 1
    [failed] = cli.ok("mail", "list", "--status", "failed")
    assert failed["to"] == "nobody@contoso.com" and failed["attempts"] == 1
    assert "550 5.1.1" in failed["last_error"] and "User unknown" in failed["last_error"]
    table = cli("mail", "list", "--status", "failed")
    assert table.code == 0 and "why it failed: 550 5.1.1" in table.out and "User unknown" in table.out

    # a failed message is not picked up again, even with --now
    assert send_pending(cli, "--now")["failed"] == 0

    smtp.handler.refuse_rcpt.clear()
    retried = cli.ok("mail", "retry", str(failed["id"]))
    assert retried["status"] == "queued" and retried["attempts"] == 0
    assert send_pending(cli)["sent"] == 1
    assert cli.ok("mail", "show", str(failed["id"]))["status"] == "sent"
    assert len(smtp.handler.for_recipient("nobody@contoso.com")) == 1


def test_only_a_failed_mail_can_be_retried(cli: Cli, smtp: SmtpServer) -> None:
    seed_ada(cli)
    send_pending(cli)
    [sent] = cli.ok("mail", "list")
    refused = cli("mail", "retry", str(sent["id"]))
    assert refused.code == 1 and "only a failed mail can be retried" in refused.err
    missing = cli("mail", "retry", "999999")
    assert missing.code == 1 and "does not exist" in missing.err


def test_server_down_leaves_mail_queued_without_using_up_tries(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_ada(cli)
    down = SmtpServer()  # port reserved, nobody listening
    try:
        for key, value in down.env().items():
            monkeypatch.setenv(key, value)
        result = send_pending(cli)
        assert result["sent"] == 0 and result["not_attempted"] == 1
        assert "cannot reach" in result["server_error"]
        [row] = outbox_rows(cli.url)
        assert row.status == "queued" and row.attempts == 0
        assert row.last_error is not None and "not sent yet" in row.last_error

        down.start()
        assert send_pending(cli)["sent"] == 1
        assert len(down.handler.messages()) == 1
    finally:
        down.stop()


def test_send_pending_refuses_to_run_without_an_smtp_host(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIALCONF_SMTP_HOST", raising=False)
    result = cli("mail", "send-pending")
    assert result.code == 1 and "DIALCONF_SMTP_HOST is not set" in result.err


def test_worker_refuses_to_start_without_an_smtp_host(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIALCONF_SMTP_HOST", raising=False)
    result = cli("worker")
    assert result.code == 1
    assert "dialconf worker needs an SMTP server and DIALCONF_SMTP_HOST is not set" in result.err
    assert "dialconf up" in result.err
