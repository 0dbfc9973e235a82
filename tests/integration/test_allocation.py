"""Conference ID allocation on a real database (DESIGN §2 rules 5-8), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from random import Random

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError

from dialconf.domain import ids
from dialconf.errors import ConferenceIdQuarantined, ConferenceIdSpaceExhausted, ConferenceIdTaken, Conflict
from dialconf.services import bridges, conference_ids, dialin, resets, users
from dialconf.store.db import make_engine, make_session_factory
from dialconf.store.models import Bridge, ConferenceIdRow, User
from dialconf.store.uow import UnitOfWork
from tests.conftest import TEST_KEY, make_uow
from tests.integration.builders import (
    OPERATOR,
    SEATTLE,
    FakeClock,
    count_rows,
    fill_bridge,
    get_bridge,
    make_tenant,
    make_user,
)


def _allocate_one(uow: UnitOfWork, bridge: Bridge) -> conference_ids.Allocation:
    with uow:
        allocation = conference_ids.allocate(uow, bridge, owner_user_id=None, kind="meeting")
        uow.commit()
        return allocation


def _ids_in_use(uow: UnitOfWork, bridge: Bridge) -> int:
    with uow:
        return int(uow.session.scalar(select(Bridge.ids_in_use).where(Bridge.id == bridge.id)) or 0)


def _user_id(uow: UnitOfWork, upn: str) -> int:
    return int(uow.session.scalar(select(User.id).where(User.upn == upn)) or 0)


def _joins(uow: UnitOfWork, digits: str) -> str | None:
    """Who a caller reaches by dialing the Seattle number and typing `digits` (None: rejected)."""
    result = dialin.lookup(uow, number=SEATTLE, digits=digits, caller="+12065550123", actor=OPERATOR)
    return result.upn if result.result == "join" else None


def test_tiny_bridge_hands_out_every_free_id_then_says_the_space_is_exhausted(database_url: str) -> None:
    uow = make_uow(database_url, rng=Random(4))
    make_tenant(uow, id_length=4)
    bridge = get_bridge(uow)
    space = ids.enumerate_space(4)
    free = sorted(Random(9).sample(space, 10))
    fill_bridge(uow, bridge, sorted(set(space) - set(free)))

    handed_out = []
    with pytest.raises(ConferenceIdSpaceExhausted) as exhausted:
        for _ in range(len(space)):
            handed_out.append(_allocate_one(uow, bridge).digits)

    assert sorted(handed_out) == free  # every last free ID is found, none twice, nothing weak
    assert exhausted.value.message == (
        "bridge 'main' has no free 4-digit conference ID left (every usable ID is live or quarantined); "
        "create another bridge or shorten the quarantine"
    )
    assert count_rows(uow, ConferenceIdRow, ConferenceIdRow.bridge_id == bridge.id) == len(space)
    assert _ids_in_use(uow, bridge) == len(space)


def test_enabling_a_user_on_a_full_bridge_fails_clearly_and_creates_nobody(database_url: str) -> None:
    uow = make_uow(database_url, rng=Random(5))
    make_tenant(uow, id_length=4)
    bridge = get_bridge(uow)
    fill_bridge(uow, bridge, ids.enumerate_space(4))

    with pytest.raises(ConferenceIdSpaceExhausted, match="no free 4-digit conference ID"):
        make_user(uow, "ada@contoso.com")
    assert count_rows(uow, User) == 0


def test_allocation_needs_one_round_and_a_few_statements_at_99_percent_occupancy(database_url: str) -> None:
    uow = make_uow(database_url, rng=Random(6))
    make_tenant(uow, id_length=4)
    bridge = get_bridge(uow)
    space = ids.enumerate_space(4)
    fill_bridge(uow, bridge, Random(7).sample(space, round(len(space) * 0.99)))

    engine = make_engine(database_url)
    counted = UnitOfWork(make_session_factory(engine), pin_key=lambda: TEST_KEY.encode(), rng=Random(6))
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    for _ in range(10):
        statements.clear()
        allocation = _allocate_one(counted, bridge)
        assert allocation.rounds == 1
        # lock the bridge, check the candidate batch, insert, bump the counter (+ BEGIN/COMMIT)
        assert (
            len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE"))]) <= 4
        )


def test_released_id_is_not_handed_out_again_until_its_quarantine_is_over(database_url: str) -> None:
    clock = FakeClock()
    uow = make_uow(database_url, clock=clock, rng=Random(8))
    make_tenant(uow, id_length=4)  # 90 days of quarantine by default
    bridge = get_bridge(uow)
    first = make_user(uow, "ada@contoso.com").conference_id
    assert first is not None
    space = ids.enumerate_space(4)
    spare = next(d for d in space if d != first)
    fill_bridge(uow, bridge, [d for d in space if d not in (first, spare)])

    # the only free ID is taken; the released one waits in quarantine and no longer joins anyone
    reset = resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR, send_email=False)
    assert (reset.previous_conference_id, reset.conference_id) == (first, spare)
    assert _joins(uow, first) is None
    assert _joins(uow, spare) == "ada@contoso.com"

    # 89 days on, everything is live or quarantined: the old ID is still not handed out
    clock.advance(days=89)
    with pytest.raises(ConferenceIdSpaceExhausted):
        resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR, send_email=False)
    assert _joins(uow, spare) == "ada@contoso.com"  # the failed reset changed nothing

    # once the quarantine has passed, the old ID may come back
    clock.advance(days=2)
    again = resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR, send_email=False)
    assert (again.previous_conference_id, again.conference_id) == (spare, first)
    assert _joins(uow, first) == "ada@contoso.com"
    assert _joins(uow, spare) is None
    assert _ids_in_use(uow, bridge) == len(space)


def test_quarantine_lasts_as_long_as_the_tenant_setting(database_url: str) -> None:
    clock = FakeClock()
    uow = make_uow(database_url, clock=clock)
    make_tenant(uow, id_quarantine_days=30)
    old = make_user(uow, "ada@contoso.com").conference_id
    assert old is not None
    resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR)
    make_user(uow, "bob@contoso.com")

    with uow:
        row = uow.session.scalars(select(ConferenceIdRow).where(ConferenceIdRow.digits == old)).one()
        assert row.state == "quarantined" and row.owner_user_id is not None
        assert row.released_at == clock.current
        assert row.quarantine_until == clock.current + timedelta(days=30)


def test_chosen_id_that_is_taken_is_refused_with_conference_id_taken(database_url: str) -> None:
    uow = make_uow(database_url)
    make_tenant(uow)
    ada = make_user(uow, "ada@contoso.com").conference_id
    bob = make_user(uow, "bob@contoso.com").conference_id
    assert ada is not None and bob is not None

    with pytest.raises(ConferenceIdTaken, match=f"conference ID {ada} is already in use"):
        resets.set_conference_id(uow, upn="bob@contoso.com", digits=ada, actor=OPERATOR)
    with pytest.raises(ConferenceIdTaken):
        make_user(uow, "cyd@contoso.com", conference_id=f"{ada[:3]} {ada[3:]}#")

    assert users.show_user(uow, upn="bob@contoso.com", actor=OPERATOR).conference_id == bob
    assert _joins(uow, ada) == "ada@contoso.com"
    assert count_rows(uow, User) == 2


def test_chosen_id_in_quarantine_is_refused_until_the_quarantine_is_over(database_url: str) -> None:
    clock = FakeClock()
    uow = make_uow(database_url, clock=clock)
    make_tenant(uow)
    old = make_user(uow, "ada@contoso.com").conference_id
    assert old is not None
    make_user(uow, "bob@contoso.com")
    resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR)

    until = (clock.current + timedelta(days=90)).date().isoformat()
    with pytest.raises(ConferenceIdQuarantined) as refused:
        resets.set_conference_id(uow, upn="bob@contoso.com", digits=old, actor=OPERATOR)
    assert (
        f"conference ID {old} was released recently and is quarantined until {until}" in refused.value.message
    )
    # not even the user who gave it up gets it back early: an old invitation could be in anyone's hands
    with pytest.raises(ConferenceIdQuarantined):
        resets.set_conference_id(uow, upn="ada@contoso.com", digits=old, actor=OPERATOR)
    assert _joins(uow, old) is None

    clock.advance(days=91)
    resets.set_conference_id(uow, upn="bob@contoso.com", digits=old, actor=OPERATOR)
    assert users.show_user(uow, upn="bob@contoso.com", actor=OPERATOR).conference_id == old
    assert _joins(uow, old) == "bob@contoso.com"


def test_database_refuses_a_second_row_for_the_same_id_on_one_bridge(database_url: str) -> None:
    uow = make_uow(database_url)
    make_tenant(uow)
    taken = make_user(uow, "ada@contoso.com").conference_id
    bridge = get_bridge(uow)
    insert = text(
        "INSERT INTO conference_ids (bridge_id, digits, state, kind, chosen, created_at) "
        "VALUES (:bridge, :digits, 'quarantined', 'meeting', false, CURRENT_TIMESTAMP)"
    )
    with uow, pytest.raises(IntegrityError, match=r"(?i)unique|duplicate"):
        uow.session.execute(insert, {"bridge": bridge.id, "digits": taken})
        uow.session.flush()


def test_the_same_digits_may_live_on_two_bridges(database_url: str) -> None:
    uow = make_uow(database_url)
    make_tenant(uow)
    bridges.create_bridge(uow, tenant="contoso", name="europe", actor=OPERATOR)
    bridges.add_number(uow, tenant="contoso", number="+442079460018", actor=OPERATOR, bridge="europe")
    taken = make_user(uow, "ada@contoso.com").conference_id
    assert taken is not None
    make_user(uow, "bob@contoso.com", bridge="europe")

    resets.set_conference_id(uow, upn="bob@contoso.com", digits=taken, actor=OPERATOR)
    assert count_rows(uow, ConferenceIdRow, ConferenceIdRow.digits == taken) == 2
    london = dialin.lookup(uow, number="+442079460018", digits=taken, actor=OPERATOR)
    assert (london.result, london.upn) == ("join", "bob@contoso.com")
    assert _joins(uow, taken) == "ada@contoso.com"


def test_with_no_quarantine_a_released_id_is_free_at_once(database_url: str) -> None:
    uow = make_uow(database_url)
    make_tenant(uow, id_quarantine_days=0)
    old = make_user(uow, "ada@contoso.com").conference_id
    assert old is not None
    make_user(uow, "bob@contoso.com")
    bridge = get_bridge(uow)
    in_use = _ids_in_use(uow, bridge)

    resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR)
    assert count_rows(uow, ConferenceIdRow, ConferenceIdRow.digits == old) == 0
    assert _ids_in_use(uow, bridge) == in_use  # one released, one allocated

    resets.set_conference_id(uow, upn="bob@contoso.com", digits=old, actor=OPERATOR)
    assert _joins(uow, old) == "bob@contoso.com"


@pytest.mark.parametrize("quarantine_days", [90, 0])
def test_releasing_an_id_that_another_action_released_first_is_refused_not_doubled(
    database_url: str, quarantine_days: int
) -> None:
    uow = make_uow(database_url)
    make_tenant(uow, id_quarantine_days=quarantine_days)
    make_user(uow, "ada@contoso.com")
    with uow:  # what a slower reset of Ada read before the faster one below committed
        stale = conference_ids.live_static_row(uow, _user_id(uow, "ada@contoso.com"))
        assert stale is not None
        uow.session.expunge(stale)
    winner = resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR)

    with uow, pytest.raises(Conflict, match="changed by another action at the same moment; try again"):
        conference_ids.release(uow, stale, quarantine_days=quarantine_days)
    assert users.show_user(uow, upn="ada@contoso.com", actor=OPERATOR).conference_id == winner.conference_id
    assert count_rows(uow, ConferenceIdRow, ConferenceIdRow.state == "live") == 1
