"""Tenants hold domains, as in Microsoft 365: sign-in names and senders live inside them, and the operator
hands them out; numbers and short quarantines are the operator's too."""

from __future__ import annotations

import pytest

from tests.conftest import Cli, CliResult
from tests.e2e.conftest import ADA, ADMIN, HELPDESK, MAIN_TOLL, SECOND_TOLL, World


def refused(result: CliResult, *words: str) -> str:
    """Exit 1 with one line on stderr holding every word; returns that line."""
    assert result.code == 1, f"exit {result.code}\n{result.out}{result.err}"
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dialconf: "), result.err
    for word in words:
        assert word in lines[0], f"{word!r} missing from {lines[0]!r}"
    return lines[0]


def enable(cli: Cli, upn: str, *extra: str) -> CliResult:
    return cli("user", "enable", upn, "--tenant", "contoso", "--email", upn, "--name", "Some One", *extra)


def test_tenant_created_with_several_domains_shows_them_all_and_the_first_as_domain(world: World) -> None:
    created = world.cli.ok("tenant", "create", "adatum", "--domain", "Adatum.com", "--domain", "adatum.org")
    assert created["domains"] == ["adatum.com", "adatum.org"]
    assert created["domain"] == "adatum.com"
    assert created["email_from_address"] == "noreply@adatum.com"
    assert world.cli.ok("tenant", "show", "adatum")["domains"] == ["adatum.com", "adatum.org"]


def test_tenant_without_a_domain_enables_nobody_until_the_operator_adds_one(world: World) -> None:
    created = world.cli.ok("tenant", "create", "adatum")
    assert created["domains"] == [] and created["domain"] is None
    world.cli.ok("bridge", "create", "adatum", "main")
    enable_args = ("user", "enable", "lin@adatum.com", "--tenant", "adatum", "--email", "lin@adatum.com",
                   "--name", "Lin")  # fmt: skip
    refused(world.cli(*enable_args), "has no domain yet", "tenant add-domain adatum")
    world.cli.ok("tenant", "add-domain", "adatum", "adatum.com")
    assert world.cli.ok(*enable_args)["upn"] == "lin@adatum.com"


@pytest.mark.parametrize(
    "domain",
    ["contoso", "www.-contoso.com", "contoso-.com", "conto so.com", "a..com", "x@contoso.org", "contoso.123"],
)
def test_a_domain_that_is_not_a_host_name_is_refused(world: World, domain: str) -> None:
    before = world.state()
    refused(world.cli("tenant", "add-domain", "contoso", domain), "not a valid domain")
    refused(world.cli("tenant", "create", "adatum", "--domain", domain), "not a valid domain")
    assert world.state() == before


def test_users_of_an_added_domain_may_sign_in_and_the_domain_is_listed(world: World) -> None:
    shown = world.cli.ok("tenant", "add-domain", "contoso", "Contoso.ORG")
    assert shown["domains"] == ["contoso.com", "contoso.org"] and shown["domain"] == "contoso.com"
    assert world.cli.ok("--as", ADMIN, "user", "enable", "lin@contoso.org", "--tenant", "contoso",
                        "--email", "lin@contoso.org", "--name", "Lin")["upn"] == "lin@contoso.org"  # fmt: skip
    line = refused(enable(world.cli, "lin@contoso.net"), "lin@contoso.net")
    assert line.endswith("must end in one of tenant 'contoso''s domains: contoso.com, contoso.org")


def test_a_domain_of_another_tenant_cannot_be_added_and_the_refusal_does_not_name_the_holder(
    world: World,
) -> None:
    before = world.state()
    line = refused(world.cli("tenant", "add-domain", "contoso", "FABRIKAM.com"), "cannot be added")
    assert (
        line == "dialconf: domain 'fabrikam.com' cannot be added to tenant 'contoso': another tenant holds it"
    )
    refused(world.cli("tenant", "create", "adatum", "--domain", "adatum.com", "--domain", "northwind.com"),
            "domain 'northwind.com' cannot be added to tenant 'adatum'")  # fmt: skip
    assert world.state() == before


def test_adding_a_domain_the_tenant_holds_says_so(world: World) -> None:
    refused(world.cli("tenant", "add-domain", "contoso", "contoso.com"), "already holds", "contoso.com")


@pytest.mark.parametrize("actor", [ADMIN, HELPDESK])
@pytest.mark.parametrize("command", ["add-domain", "remove-domain"])
def test_only_the_operator_adds_or_removes_domains(world: World, actor: str, command: str) -> None:
    world.cli.ok("tenant", "add-domain", "contoso", "contoso.org")
    before = world.state()
    refused(world.cli("--as", actor, "tenant", command, "contoso", "contoso.org"), "operator")
    assert world.state() == before


def test_a_domain_users_and_admins_sign_in_with_is_not_removed_and_the_refusal_counts_them(
    world: World,
) -> None:
    world.cli.ok("tenant", "add-domain", "contoso", "contoso.org")
    before = world.state()
    line = refused(world.cli("tenant", "remove-domain", "contoso", "contoso.com"))
    # ada, grace and tp; admin@ and helpdesk@
    assert line == (
        "dialconf: 3 user(s) and 2 admin account(s) still sign in with domain 'contoso.com'; "
        "it stays with tenant 'contoso'"
    )
    assert world.state() == before


def test_the_only_domain_of_a_tenant_is_not_removed(world: World) -> None:
    world.cli.ok("tenant", "create", "adatum", "--domain", "adatum.com")
    refused(world.cli("tenant", "remove-domain", "adatum", "adatum.com"), "only domain", "add-domain")


def test_a_domain_the_tenant_does_not_hold_is_not_removed(world: World) -> None:
    refused(world.cli("tenant", "remove-domain", "contoso", "fabrikam.com"), "does not hold", "fabrikam.com")


def test_removing_the_primary_domain_makes_the_next_one_primary_once_the_sender_moved(world: World) -> None:
    world.cli.ok("tenant", "create", "adatum", "--domain", "adatum.com", "--domain", "adatum.org")
    refused(
        world.cli("tenant", "remove-domain", "adatum", "adatum.com"), "noreply@adatum.com", "--email-from"
    )
    world.cli.ok("tenant", "set", "adatum", "--email-from", "noreply@adatum.org")
    shown = world.cli.ok("tenant", "remove-domain", "adatum", "adatum.com")
    assert shown["domains"] == ["adatum.org"] and shown["domain"] == "adatum.org"
    # a domain given up is free for another tenant
    assert world.cli.ok("tenant", "add-domain", "contoso", "adatum.com")["domains"] == [
        "contoso.com",
        "adatum.com",
    ]


def test_admin_accounts_are_named_in_the_tenants_domains(world: World) -> None:
    line = refused(
        world.cli("admin", "create", "it@outsourcer.com", "--tenant", "contoso", "--role", "admin",
                  stdin="password-long-enough\n"),
    )  # fmt: skip
    assert (
        line
        == "dialconf: sign-in name 'it@outsourcer.com' must end in one of tenant 'contoso''s domains: contoso.com"
    )


def test_an_admin_sets_a_sender_only_inside_the_tenants_domains(world: World) -> None:
    assert (
        world.cli.ok("--as", ADMIN, "tenant", "set", "contoso", "--email-from", "dialin@contoso.com")[
            "email_from_address"
        ]
        == "dialin@contoso.com"
    )
    before = world.state()
    line = refused(
        world.cli("--as", ADMIN, "tenant", "set", "contoso", "--email-from", "dialin@fabrikam.com")
    )
    assert line == (
        "dialconf: sender address 'dialin@fabrikam.com' must be in one of tenant 'contoso''s domains: "
        "contoso.com; only the operator may choose another"
    )
    assert world.state() == before


def test_the_operator_may_choose_any_sender(world: World) -> None:
    shown = world.cli.ok("tenant", "set", "contoso", "--email-from", "conferencing@mailer.example.net")
    assert shown["email_from_address"] == "conferencing@mailer.example.net"


def test_an_id_quarantine_under_seven_days_is_the_operators_call(world: World) -> None:
    assert (
        world.cli.ok("--as", ADMIN, "tenant", "set", "contoso", "--id-quarantine-days", "7")[
            "id_quarantine_days"
        ]
        == 7
    )
    before = world.state()
    refused(
        world.cli("--as", ADMIN, "tenant", "set", "contoso", "--id-quarantine-days", "6"),
        "operator",
        "7 days",
    )
    assert world.state() == before
    assert world.cli.ok("tenant", "set", "contoso", "--id-quarantine-days", "0")["id_quarantine_days"] == 0


@pytest.mark.parametrize("actor", [ADMIN, HELPDESK])
def test_only_the_operator_adds_service_numbers(world: World, actor: str) -> None:
    before = world.state()
    refused(
        world.cli("--as", actor, "number", "add", "contoso", "+14255550111"), actor, "may not", "operator"
    )
    assert world.state() == before


def test_an_admin_still_chooses_the_default_among_the_operators_numbers(world: World) -> None:
    world.cli.ok("number", "add", "contoso", "+14255550111", "--city", "Redmond")
    chosen = world.cli.ok("--as", ADMIN, "number", "set-default", "contoso", "+14255550111")
    assert chosen["default"] is True
    assert (
        world.cli.ok("--as", ADMIN, "user", "set-default-number", ADA, "--toll", MAIN_TOLL)["toll_number"]
        == MAIN_TOLL
    )
    refused(
        world.cli("--as", ADMIN, "user", "set-default-number", ADA, "--toll", SECOND_TOLL),
        "not a service number",
    )
