"""A user enabled before the bridge had a number has no toll number of their own: everything that
tells callers how to dial in gives them the bridge's default, as the meeting invitations do."""

from __future__ import annotations

from tests.conftest import Cli

ADA = "ada@contoso.com"


def _tenant_without_numbers(cli: Cli) -> None:
    cli.ok("tenant", "create", "contoso", "--domain", "contoso.com")
    cli.ok("bridge", "create", "contoso", "main")
    cli.ok("tenant", "set-id-mode", "contoso", "static")
    cli.ok("user", "enable", ADA, "--tenant", "contoso", "--email", ADA, "--name", "Ada")


def test_a_user_without_a_number_of_their_own_is_shown_and_sent_the_bridge_default(cli: Cli) -> None:
    _tenant_without_numbers(cli)
    assert cli.ok("user", "show", ADA)["toll_number"] is None  # nothing to give yet
    cli.ok("number", "add", "contoso", "+14255550100", "--city", "Seattle")

    shown = cli.ok("user", "show", ADA)
    assert shown["toll_number"] == "+14255550100"
    listed = cli.ok("user", "list", "--tenant", "contoso")
    assert [u["toll_number"] for u in listed] == ["+14255550100"]

    cli.ok("user", "send-info", ADA)
    newest = cli.ok("mail", "list", "--tenant", "contoso")[0]
    mail = cli.ok("mail", "show", str(newest["id"]))
    assert "+1 425-555-0100" in mail["body_text"] or "+14255550100" in mail["body_text"], mail["body_text"]
    assert 'href="tel:+14255550100"' in mail["body_html"]


def test_a_number_of_their_own_wins_over_the_bridge_default(cli: Cli) -> None:
    _tenant_without_numbers(cli)
    cli.ok("number", "add", "contoso", "+14255550100", "--city", "Seattle")
    cli.ok("number", "add", "contoso", "+442071234567", "--city", "London")
    cli.ok("user", "set-default-number", ADA, "--toll", "+442071234567")
    assert cli.ok("user", "show", ADA)["toll_number"] == "+442071234567"
