"""`dialconf user list --search` finds users by conference ID as typed, and `--after` pages by sign-in name."""

from __future__ import annotations

from dialconf.domain.ids import format_for_callers
from tests.e2e.conftest import ADA, GRACE, TP, TP_ID, World


def _upns(world: World, *args: str) -> list[str]:
    result = world.cli("user", "list", "--tenant", "contoso", "--json", *args)
    assert result.code == 0, result.err
    return [row["upn"] for row in result.json()]


def test_user_list_finds_a_user_by_conference_id_typed_with_spaces_and_hash(world: World) -> None:
    ada_id = world.facts["ada_id"]
    assert _upns(world, "--search", format_for_callers(ada_id)) == [ADA]
    assert _upns(world, "--search", TP_ID[:5] + "#") == [TP]  # a third-party ID, by its first digits
    # an ID that was released (grace's old one) finds nobody
    assert _upns(world, "--search", world.facts["grace_released_id"]) == []


def test_user_list_finds_a_user_by_a_word_of_the_name_in_any_case(world: World) -> None:
    assert _upns(world, "--search", "HOPP") == [GRACE]
    assert _upns(world, "--search", "love") == [ADA]


def test_user_list_after_a_sign_in_name_continues_from_there_and_says_where_it_is(world: World) -> None:
    assert _upns(world) == [ADA, GRACE, TP]
    result = world.cli("user", "list", "--tenant", "contoso", "--after", ADA, "--limit", "1")
    assert result.code == 0 and GRACE in result.out and TP not in result.out
    assert "showing 2-2 of 3; use --limit, --after or --all" in result.err
    assert _upns(world, "--after", GRACE, "--all") == [TP]
    assert _upns(world, "--after", TP) == []
