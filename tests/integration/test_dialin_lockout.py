"""The auto attendant's lockouts (DESIGN §3, §6): wrong IDs per caller, wrong leader PINs per organizer."""

from __future__ import annotations

from random import Random

import pytest
from sqlalchemy import update

from dialconf.services import dialin, resets, tenants
from dialconf.services.views import LookupResult
from dialconf.store.models import User
from dialconf.store.uow import UnitOfWork
from tests.conftest import make_uow
from tests.integration.builders import OPERATOR, SEATTLE, FakeClock, make_tenant, make_user

MALLORY = "+12065550111"
ALICE = "+12065550122"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow(database_url: str, clock: FakeClock) -> UnitOfWork:
    return make_uow(database_url, clock=clock, rng=Random(11))


def _call(uow: UnitOfWork, digits: str, *, caller: str = MALLORY, pin: str | None = None) -> LookupResult:
    return dialin.lookup(uow, number=SEATTLE, digits=digits, caller=caller, pin=pin, actor=OPERATOR)


def _wrong_id(right: str) -> str:
    """A well-formed ID that is not `right` (and, on an almost empty bridge, nobody's)."""
    return ("2" if right[0] != "2" else "3") + right[1:]


def _wrong_pin(right: str) -> str:
    return "".join(str((int(d) + 1) % 10) for d in right)


# --- wrong conference IDs, per caller ------------------------------------------------------------


def test_a_caller_is_locked_out_after_five_wrong_ids_and_others_are_not(
    uow: UnitOfWork, clock: FakeClock
) -> None:
    make_tenant(uow)
    right = make_user(uow, "ada@contoso.com").conference_id
    assert right is not None

    tries = [_call(uow, _wrong_id(right)) for _ in range(5)]
    assert [t.result for t in tries] == ["reject"] * 5
    assert [t.locked_until for t in tries[:4]] == [None] * 4
    assert tries[4].locked_until == clock.current + dialin.CallerPolicy().lockout

    locked = _call(uow, right)
    assert locked.result == "reject" and "too many wrong conference IDs" in locked.reason
    assert locked.upn is None  # a locked caller learns nothing, not even with the right ID

    other = _call(uow, right, caller=ALICE)
    assert (other.result, other.upn) == ("join", "ada@contoso.com")


def test_the_caller_lockout_expires_after_its_time(uow: UnitOfWork, clock: FakeClock) -> None:
    make_tenant(uow)
    right = make_user(uow, "ada@contoso.com").conference_id
    assert right is not None
    for _ in range(5):
        _call(uow, _wrong_id(right))

    clock.advance(minutes=29)
    assert _call(uow, right).result == "reject"
    clock.advance(minutes=1)
    assert (_call(uow, right).result, _call(uow, right).upn) == ("join", "ada@contoso.com")


def test_wrong_ids_further_apart_than_the_window_do_not_lock_the_caller(
    uow: UnitOfWork, clock: FakeClock
) -> None:
    make_tenant(uow)
    right = make_user(uow, "ada@contoso.com").conference_id
    assert right is not None
    for _ in range(4):
        _call(uow, _wrong_id(right))
    clock.advance(minutes=16)
    for _ in range(4):
        assert _call(uow, _wrong_id(right)).locked_until is None
    assert _call(uow, right).result == "join"


def test_a_known_id_between_guesses_does_not_forgive_them(uow: UnitOfWork, clock: FakeClock) -> None:
    """'4 wrong, 1 known, repeat' must not guess forever: wrong IDs decay with time, not with success."""
    make_tenant(uow)
    right = make_user(uow, "ada@contoso.com").conference_id
    assert right is not None
    for _ in range(4):
        assert _call(uow, _wrong_id(right)).locked_until is None
    assert _call(uow, right).result == "join"
    locked = _call(uow, _wrong_id(right))
    assert locked.locked_until == clock.current + dialin.CallerPolicy().lockout
    assert _call(uow, right).reason == dialin.CALLER_LOCKED


def test_guesses_spread_over_known_ids_still_lock_the_caller_within_the_window(
    uow: UnitOfWork, clock: FakeClock
) -> None:
    make_tenant(uow)
    right = make_user(uow, "ada@contoso.com").conference_id
    assert right is not None
    answers = []
    for _ in range(3):  # 4 wrong, 1 known, repeat, a minute apart
        for _ in range(4):
            answers.append(_call(uow, _wrong_id(right)))
            clock.advance(minutes=1)
        answers.append(_call(uow, right))
    assert [a.result for a in answers[:4]] == ["reject"] * 4
    assert answers[4].result == "join"
    assert answers[5].locked_until is not None, "the fifth wrong ID, after a known one, did not lock"
    assert all(a.result == "reject" for a in answers[5:])


def test_malformed_and_stale_ids_count_as_wrong_tries(uow: UnitOfWork) -> None:
    make_tenant(uow)
    old = make_user(uow, "ada@contoso.com").conference_id
    assert old is not None
    new = resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR).conference_id
    assert new is not None

    results = [_call(uow, typed) for typed in ("12#", "abcdefg", old, old, "0000000")]
    assert [r.result for r in results] == ["reject"] * 5
    assert results[2].reason == dialin.NOT_VALID
    assert results[2].detail is not None and "reset or released" in results[2].detail
    assert results[4].locked_until is not None
    assert _call(uow, new).result == "reject"  # locked now, even with the new ID


def test_callers_hear_one_message_for_every_id_that_leads_nowhere(uow: UnitOfWork) -> None:
    """Unknown, released, or held by a disabled or third-party organizer: the caller cannot tell them apart."""
    make_tenant(uow)
    released = make_user(uow, "ada@contoso.com").conference_id
    live = resets.reset_conference_id(uow, upn="ada@contoso.com", actor=OPERATOR).conference_id
    off = make_user(uow, "bob@contoso.com").conference_id
    elsewhere = make_user(uow, "tess@contoso.com").conference_id
    assert released and live and off and elsewhere
    # rows still live while their owners were switched off: the lookup must check the owner itself
    with uow:
        uow.session.execute(update(User).where(User.upn == "bob@contoso.com").values(enabled=False))
        uow.session.execute(update(User).where(User.upn == "tess@contoso.com").values(provider="third-party"))
        uow.commit()
    taken = {released, live, off, elsewhere}
    never = next(d for d in (f"{n}000000" for n in range(2, 10)) if d not in taken)

    answers = {
        typed: dialin.lookup(uow, number=SEATTLE, digits=typed, caller=f"+1206555{n:04d}", actor=OPERATOR)
        for n, typed in enumerate((never, released, off, elsewhere, "12#"))
    }
    assert {a.result for a in answers.values()} == {"reject"}
    assert {a.reason for a in answers.values()} == {dialin.NOT_VALID}
    assert all(a.upn is None and a.room is None for a in answers.values())
    # the admin-facing detail still says why, one distinct reason each
    assert len({a.detail for a in answers.values()}) == len(answers)
    assert "disabled" in (answers[off].detail or "")
    assert "third-party" in (answers[elsewhere].detail or "")


def test_anonymous_callers_share_one_counter(uow: UnitOfWork) -> None:
    make_tenant(uow)
    right = make_user(uow, "ada@contoso.com").conference_id
    assert right is not None
    for caller in ("", None, "  ", "", None):
        dialin.lookup(uow, number=SEATTLE, digits=_wrong_id(right), caller=caller, actor=OPERATOR)
    assert dialin.lookup(uow, number=SEATTLE, digits=right, caller=None, actor=OPERATOR).result == "reject"
    assert _call(uow, right, caller=ALICE).result == "join"


# --- the leader PIN ------------------------------------------------------------------------------


def _organizer(uow: UnitOfWork, *, pin_length: int | None = None) -> tuple[str, str]:
    settings = {"pin_length": pin_length} if pin_length else {}
    make_tenant(uow, **settings)
    digits = make_user(uow, "ada@contoso.com").conference_id
    assert digits is not None
    pin = resets.reset_pin(uow, upn="ada@contoso.com", actor=OPERATOR, send_email=False).pin
    return digits, pin


def test_the_right_leader_pin_joins_as_leader(uow: UnitOfWork) -> None:
    digits, pin = _organizer(uow)
    led = _call(uow, digits, pin=pin)
    assert (led.result, led.reason, led.upn) == ("join", "leader", "ada@contoso.com")
    assert led.room == _call(uow, digits).room  # the same room participants join


def test_a_wrong_leader_pin_is_refused(uow: UnitOfWork) -> None:
    digits, pin = _organizer(uow)
    refused = _call(uow, digits, pin=_wrong_pin(pin))
    assert (refused.result, refused.reason) == ("reject", "wrong leader PIN")
    assert refused.room is None


@pytest.mark.parametrize(("pin_length", "local_limit"), [(4, 10), (5, 25)])
def test_wrong_leader_pins_lock_the_pin_for_an_hour_at_the_limit_for_its_length(
    uow: UnitOfWork, clock: FakeClock, pin_length: int, local_limit: int
) -> None:
    digits, pin = _organizer(uow, pin_length=pin_length)
    assert len(pin) == pin_length
    for _ in range(local_limit - 1):
        assert _call(uow, digits, pin=_wrong_pin(pin)).reason == "wrong leader PIN"
    assert _call(uow, digits, pin=pin).reason == "leader"  # one short of the limit: still usable

    for _ in range(local_limit):
        _call(uow, digits, pin=_wrong_pin(pin))
    locked = _call(uow, digits, pin=pin)
    assert locked.result == "reject" and "locked" in locked.reason
    # participants still get in; only leading is locked
    assert _call(uow, digits).result == "join"

    clock.advance(minutes=59)
    assert _call(uow, digits, pin=pin).result == "reject"
    clock.advance(minutes=1)
    assert _call(uow, digits, pin=pin).reason == "leader"


def test_wrong_pins_spread_out_reach_the_global_limit_and_only_an_admin_reset_unlocks(
    uow: UnitOfWork, clock: FakeClock
) -> None:
    digits, pin = _organizer(uow, pin_length=4)  # 10 per window, 100 in all
    for _ in range(11):
        for _ in range(9):
            _call(uow, digits, pin=_wrong_pin(pin))
        clock.advance(minutes=31)
    _call(uow, digits, pin=_wrong_pin(pin))  # the 100th
    clock.advance(days=30)
    assert "locked" in _call(uow, digits, pin=pin).reason

    fresh = resets.reset_pin(uow, upn="ada@contoso.com", actor=OPERATOR, send_email=False).pin
    assert _call(uow, digits, pin=fresh).reason == "leader"


def test_wrong_pins_of_one_organizer_do_not_lock_another(uow: UnitOfWork) -> None:
    digits, pin = _organizer(uow, pin_length=4)
    bob = make_user(uow, "bob@contoso.com").conference_id
    assert bob is not None
    bob_pin = resets.reset_pin(uow, upn="bob@contoso.com", actor=OPERATOR, send_email=False).pin
    for _ in range(10):
        _call(uow, digits, pin=_wrong_pin(pin))
    assert "locked" in _call(uow, digits, pin=pin).reason
    assert _call(uow, bob, pin=bob_pin).reason == "leader"


def test_pin_lockout_limits_follow_the_length_of_the_pin_not_the_tenant_setting(
    uow: UnitOfWork,
) -> None:
    """DESIGN §3: limits by PIN length. A 4-digit PIN stays 4 digits when the tenant moves to 6."""
    digits, pin = _organizer(uow, pin_length=4)
    tenants.update_settings(uow, name="contoso", actor=OPERATOR, pin_length=6)  # new PINs only
    for _ in range(10):
        _call(uow, digits, pin=_wrong_pin(pin))
    assert "locked" in _call(uow, digits, pin=pin).reason, (
        "a 4-digit PIN got the 6-digit limit (25 tries) after the tenant's PIN length changed"
    )
