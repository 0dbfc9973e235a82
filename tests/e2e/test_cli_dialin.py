"""`dialconf dialin lookup`: what a caller hears is one text for every invalid ID; the admin reads why."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MAIN_TOLL, TP_ID, World

NOT_VALID = "that conference ID is not valid"
CONTRACT_KEYS = {"result", "reason", "upn", "meeting", "room", "tenant", "bridge", "locked_until"}


def test_a_released_id_prints_the_callers_text_then_the_admins_reason(world: World) -> None:
    released = world.facts["grace_released_id"]
    shown = world.cli("dialin", "lookup", "--number", MAIN_TOLL, "--digits", released)
    assert shown.code == 0, shown.err
    assert shown.out.strip() == f"reject: {NOT_VALID} (it was reset or released and is quarantined)"


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("{grace_released_id}", id="released"),
        pytest.param("{never}", id="never-existed"),
        pytest.param(TP_ID, id="third-party-id"),
    ],
)
def test_every_invalid_id_gets_the_same_reason_and_its_own_detail(world: World, typed: str) -> None:
    never = next(d for d in ("2000000", "3000000", "4000000") if d not in world.facts.values())
    digits = typed.format(never=never, **world.facts)
    answer = world.cli.ok("dialin", "lookup", "--number", MAIN_TOLL, "--digits", digits)
    assert set(answer) >= CONTRACT_KEYS  # the JSON contract only grows
    assert (answer["result"], answer["reason"], answer["upn"]) == ("reject", NOT_VALID, None)
    assert answer["detail"] and answer["detail"] != NOT_VALID


def test_a_joining_call_has_no_detail(world: World) -> None:
    answer = world.cli.ok("dialin", "lookup", "--number", MAIN_TOLL, "--digits", world.facts["ada_id"])
    assert (answer["result"], answer["reason"], answer["detail"]) == ("join", "participant", None)
