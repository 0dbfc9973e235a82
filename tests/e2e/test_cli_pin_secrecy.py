"""A PIN is for its user only: `mail show` masks it for every role and status, and a PIN mail that
fails for good is erased like a delivered one (the admin resets the PIN again)."""

from __future__ import annotations

import re

import pytest

from dialconf.mail.compose import PIN_MASK
from dialconf.services.outbox import REDACTED_FAILED_NOTE
from tests.e2e.conftest import ADA, ADMIN, HELPDESK, World
from tests.support.outbox import outbox_rows
from tests.support.smtp import SmtpServer

PIN_LINE = re.compile(r"Your leader PIN: (\d+)")


def queued_pin_mail(world: World, upn: str = ADA) -> tuple[int, str]:
    """The ID of the user's queued welcome mail and the PIN it carries (read straight from the outbox)."""
    [row] = [r for r in outbox_rows(world.url) if r.kind == "welcome" and r.to_addr == upn]
    match = PIN_LINE.search(row.body_text)
    assert row.status == "queued" and match, row
    assert match.group(1) in row.body_html
    return row.id, match.group(1)



@pytest.mark.parametrize("acting_as", [None, ADMIN, HELPDESK])
def test_mail_show_masks_the_pin_of_a_queued_pin_mail_for_every_role(
    world: World, acting_as: str | None
) -> None:
    mail_id, pin = queued_pin_mail(world)
    who = ["--as", acting_as] if acting_as else []
    human = world.cli(*who, "mail", "show", str(mail_id))
    assert human.code == 0, human.err
    assert f"Your leader PIN: {PIN_MASK}" in human.out and pin not in human.out
    shown = world.cli(*who, "mail", "show", str(mail_id), "--json")
    assert shown.code == 0 and pin not in shown.out
    data = shown.json()
    assert data["status"] == "queued" and not data["redacted"]
    assert f"Your leader PIN: {PIN_MASK}" in data["body_text"] and PIN_MASK in data["body_html"]
    assert "Ada Lovelace" in data["body_text"]  # the rest of the mail is still there to read


def test_mail_list_and_the_audit_log_never_carry_the_pin(world: World) -> None:
    _, pin = queued_pin_mail(world)
    for command in (("mail", "list"), ("audit", "list")):
        for output in (world.cli(*command).out, world.cli(*command, "--json").out):
            assert f": {pin}" not in output and f'"{pin}"' not in output


def test_a_pin_mail_refused_for_good_is_erased_and_cannot_be_retried(world: World, smtp: SmtpServer) -> None:
    mail_id, pin = queued_pin_mail(world)
    smtp.handler.refuse_rcpt[ADA] = "550 5.1.1 <ada@contoso.com>: Recipient address rejected: User unknown"
    world.cli.ok("mail", "send-pending")
    [row] = [r for r in outbox_rows(world.url) if r.id == mail_id]
    assert row.status == "failed" and row.redacted
    assert pin not in row.body_text + row.body_html
    assert row.last_error is not None and "550 5.1.1" in row.last_error
    assert "reset the PIN again" in row.last_error

    shown = world.cli.ok("mail", "show", str(mail_id))
    assert shown["body_text"] == REDACTED_FAILED_NOTE and shown["redacted"] is True
    human = world.cli("mail", "list", "--status", "failed")
    assert human.code == 0 and "reset the PIN again" in human.out

    retried = world.cli("mail", "retry", str(mail_id))
    assert retried.code == 1
    assert retried.err.strip() == (
        f"dialconf: mail {mail_id} carried a PIN, erased when its delivery failed; "
        f"send a new one with: dialconf user reset-pin {ADA}"
    )
    # resetting the PIN queues a new mail that carries the new PIN, and is delivered
    smtp.handler.refuse_rcpt.clear()
    new_pin = world.cli.ok("user", "reset-pin", ADA)["pin"]
    assert world.cli.ok("mail", "send-pending")["sent"] >= 1
    assert any(new_pin in m.text() for m in smtp.handler.for_recipient(ADA))
