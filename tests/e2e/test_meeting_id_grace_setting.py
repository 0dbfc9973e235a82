"""`dialconf tenant set NAME --meeting-id-grace-days N`: shown, bounded, audited, and tenant-scoped."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN, HELPDESK, World


def test_an_admin_sets_the_meeting_id_grace_and_it_is_shown_and_audited(world: World) -> None:
    assert world.cli.ok("tenant", "show", "contoso")["meeting_id_grace_days"] == 1  # the default
    changed = world.cli.ok("--as", ADMIN, "tenant", "set", "contoso", "--meeting-id-grace-days", "30")
    assert changed["meeting_id_grace_days"] == 30
    assert world.cli.ok("tenant", "show", "contoso")["meeting_id_grace_days"] == 30
    assert "meeting ID grace (days)" in world.cli("tenant", "show", "contoso").out
    (event,) = [e for e in world.cli.ok("audit", "list", "--tenant", "contoso") if e["action"] == "tenant.settings"]
    assert (event["before"], event["after"]) == ({"meeting_id_grace_days": 1}, {"meeting_id_grace_days": 30})
    # the same value again changes nothing and records nothing
    world.cli.ok("tenant", "set", "contoso", "--meeting-id-grace-days", "30")
    assert len([e for e in world.cli.ok("audit", "list") if e["action"] == "tenant.settings"]) == 1


@pytest.mark.parametrize("days", ["-1", "366"])
def test_a_grace_outside_0_to_365_days_is_refused_in_one_line_and_nothing_changes(world: World, days: str) -> None:
    result = world.cli("tenant", "set", "contoso", "--meeting-id-grace-days", days)
    assert result.code == 1
    assert result.err.strip() == f"dialconf: meeting ID grace must be 0 to 365 days, not {days}"
    assert world.cli.ok("tenant", "show", "contoso")["meeting_id_grace_days"] == 1


def test_the_bounds_themselves_are_accepted(world: World) -> None:
    assert world.cli.ok("tenant", "set", "contoso", "--meeting-id-grace-days", "0")["meeting_id_grace_days"] == 0
    assert world.cli.ok("tenant", "set", "contoso", "--meeting-id-grace-days", "365")["meeting_id_grace_days"] == 365


def test_helpdesk_and_other_tenants_cannot_change_it(world: World) -> None:
    assert world.cli("--as", HELPDESK, "tenant", "set", "contoso", "--meeting-id-grace-days", "5").code == 1
    assert world.cli("--as", ADMIN, "tenant", "set", "fabrikam", "--meeting-id-grace-days", "5").code == 1
    assert world.cli.ok("tenant", "show", "contoso")["meeting_id_grace_days"] == 1
    assert world.cli.ok("tenant", "show", "fabrikam")["meeting_id_grace_days"] == 1


def test_tenant_set_help_names_the_option_and_its_range(world: World) -> None:
    text = world.cli("tenant", "set", "--help").out
    assert "--meeting-id-grace-days" in text and "0-365" in text
