"""Leader PIN rules (DESIGN §3): generation, keyed hashing, and the lockout policy."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from datetime import UTC, datetime, timedelta
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialconf.domain import pins
from dialconf.domain.pins import AttemptState, LockoutPolicy
from dialconf.errors import InvalidSetting

SEEDS = st.integers(min_value=0, max_value=2**64)
PIN_LENGTHS = st.integers(min_value=pins.MIN_PIN_LENGTH, max_value=pins.MAX_PIN_LENGTH)
PHONE_DIGITS = st.text(alphabet="0123456789", min_size=7, max_size=15)
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KEY = b"a-secret-key-kept-outside-the-database"


def _looks_weak(pin: str) -> bool:
    """The ID rules (4 repeats, runs, repeated groups), read independently of the code under test."""
    if re.search(r"(\d)\1{3}", pin):
        return True
    if any(pin[i : i + 5] in "0123456789" or pin[i : i + 5] in "9876543210" for i in range(len(pin) - 4)):
        return True
    n = len(pin)
    return any((pin[:p] * n)[:n] == pin for p in range(1, n // 2 + 1))


# --- generation ----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(seed=SEEDS, length=PIN_LENGTHS)
def test_generated_pin_has_the_tenant_length_and_no_weak_pattern(seed: int, length: int) -> None:
    pin = pins.generate_pin(Random(seed), length)
    assert len(pin) == length
    assert pin.isascii() and pin.isdigit()
    assert not _looks_weak(pin)
    assert pins.pin_weakness(pin) is None


@settings(max_examples=300)
@given(seed=SEEDS, length=PIN_LENGTHS, phone=PHONE_DIGITS)
def test_generated_pin_is_never_part_of_the_users_phone_number(seed: int, length: int, phone: str) -> None:
    pin = pins.generate_pin(Random(seed), length, phone_digits=phone)
    assert pin not in phone


def test_a_pin_taken_from_the_phone_number_is_named_weak() -> None:
    phone = "14255550123"
    assert pins.pin_weakness("5012", phone) == "digits of the user's own phone number"
    assert pins.pin_weakness("50123", phone) is not None
    assert pins.pin_weakness("7391", phone) is None


@pytest.mark.parametrize("pin", ["1111", "2222", "1234", "4321", "56789", "1212", "123123", "909090"])
def test_guessable_pins_are_named_weak(pin: str) -> None:
    assert pins.pin_weakness(pin) is not None


def test_pins_from_the_system_csprng_keep_every_rule_and_are_spread_evenly() -> None:
    # the source a real unit of work uses; the bounds are over 6 standard deviations wide, so a
    # fair generator fails them less than once in a billion runs, a biased or stuck one every time
    drawn = [pins.generate_pin(secrets.SystemRandom(), 5) for _ in range(5000)]
    assert all(len(pin) == 5 and pin.isdigit() and pins.pin_weakness(pin) is None for pin in drawn)
    for position in range(5):
        counts = Counter(pin[position] for pin in drawn)
        assert set(counts) == set("0123456789")
        assert all(370 <= n <= 630 for n in counts.values()), (position, counts)  # 500 expected
    # 5,000 draws from ~99,000 PINs share about 125 values by chance; far more means a narrow source
    assert len(set(drawn)) > 4800


def test_generated_pins_use_every_digit_in_every_position() -> None:
    rng = Random(3)
    drawn = [pins.generate_pin(rng, 5) for _ in range(3000)]
    for position in range(5):
        assert {pin[position] for pin in drawn} == set("0123456789")


@pytest.mark.parametrize("length", [4, 5, 12])
def test_pin_lengths_from_4_to_12_are_allowed(length: int) -> None:
    assert pins.validate_pin_length(length) == length


@pytest.mark.parametrize("length", [3, 13])
def test_pin_lengths_outside_4_to_12_are_refused(length: int) -> None:
    with pytest.raises(InvalidSetting, match="4 to 12"):
        pins.validate_pin_length(length)
    with pytest.raises(InvalidSetting):
        pins.generate_pin(Random(1), length)


# --- keyed hash ----------------------------------------------------------------------------------


@given(pin=st.text(alphabet="0123456789", min_size=4, max_size=12), upn=st.emails())
def test_a_hashed_pin_verifies_with_the_same_key_user_and_pin(pin: str, upn: str) -> None:
    stored = pins.hash_pin(KEY, upn, pin)
    assert pins.verify_pin(KEY, upn, pin, stored)
    assert re.fullmatch(r"[0-9a-f]{64}", stored)


@given(
    pin=st.text(alphabet="0123456789", min_size=4, max_size=12),
    other=st.text(alphabet="0123456789", min_size=4, max_size=12),
)
def test_a_wrong_pin_does_not_verify(pin: str, other: str) -> None:
    if other == pin:
        other = pin + "0"
    stored = pins.hash_pin(KEY, "ada@contoso.com", pin)
    assert not pins.verify_pin(KEY, "ada@contoso.com", other, stored)


def test_a_different_key_gives_a_different_hash_so_a_database_copy_alone_reveals_nothing() -> None:
    stored = pins.hash_pin(KEY, "ada@contoso.com", "48213")
    assert pins.hash_pin(b"another-key", "ada@contoso.com", "48213") != stored
    assert not pins.verify_pin(b"another-key", "ada@contoso.com", "48213", stored)


def test_the_same_pin_of_two_users_hashes_differently_so_rows_cannot_be_swapped() -> None:
    ada = pins.hash_pin(KEY, "ada@contoso.com", "48213")
    bob = pins.hash_pin(KEY, "bob@contoso.com", "48213")
    assert ada != bob
    assert not pins.verify_pin(KEY, "bob@contoso.com", "48213", ada)


def test_user_and_pin_cannot_be_shifted_into_each_other() -> None:
    # "ada@x" + "12345" must not collide with "ada@x1" + "2345"
    assert pins.hash_pin(KEY, "ada@x", "12345") != pins.hash_pin(KEY, "ada@x1", "2345")


# --- lockout policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "local", "global_"),
    [(4, 10, 100), (5, 25, 1000), (6, 25, 5000), (8, 25, 5000), (12, 25, 5000)],
)
def test_lockout_limits_follow_the_pin_length(length: int, local: int, global_: int) -> None:
    policy = LockoutPolicy.for_length(length)
    assert (policy.local_limit, policy.global_limit) == (local, global_)
    assert policy.window == timedelta(minutes=30)
    assert policy.lockout == timedelta(hours=1)


def _fail(state: AttemptState, policy: LockoutPolicy, times: int, at: datetime) -> None:
    for _ in range(times):
        assert not state.is_locked(at), "a locked PIN is never tried"
        state.record_failure(policy, at)


def test_a_fresh_pin_is_not_locked() -> None:
    assert not AttemptState().is_locked(T0)


@pytest.mark.parametrize("length", [4, 5, 6])
def test_local_limit_of_failures_in_the_window_locks_the_pin_for_an_hour(length: int) -> None:
    policy = LockoutPolicy.for_length(length)
    state = AttemptState()
    _fail(state, policy, policy.local_limit - 1, T0)
    assert not state.is_locked(T0)

    state.record_failure(policy, T0 + timedelta(minutes=29))
    assert state.is_locked(T0 + timedelta(minutes=29))
    assert state.locked_until == T0 + timedelta(minutes=29, hours=1)
    assert state.is_locked(T0 + timedelta(minutes=88))
    assert not state.is_locked(T0 + timedelta(minutes=89))
    assert not state.locked_for_good


def test_failures_further_apart_than_the_window_do_not_add_up() -> None:
    policy = LockoutPolicy.for_length(4)
    state = AttemptState()
    _fail(state, policy, 9, T0)
    _fail(state, policy, 9, T0 + timedelta(minutes=31))
    assert not state.is_locked(T0 + timedelta(minutes=31))
    assert state.total_failures == 18


def test_a_right_pin_clears_the_window_but_not_the_total() -> None:
    policy = LockoutPolicy.for_length(4)
    state = AttemptState()
    _fail(state, policy, 9, T0)
    state.record_success()
    _fail(state, policy, 9, T0 + timedelta(minutes=1))
    assert not state.is_locked(T0 + timedelta(minutes=1))
    assert state.total_failures == 18


def test_the_global_limit_locks_the_pin_until_an_admin_resets_it() -> None:
    policy = LockoutPolicy.for_length(4)
    state = AttemptState()
    at = T0
    # 9 failures a window, never reaching the local limit, until the global limit is reached
    while state.total_failures < policy.global_limit - 1:
        _fail(state, policy, min(9, policy.global_limit - 1 - state.total_failures), at)
        at += timedelta(minutes=31)
    assert not state.is_locked(at)
    state.record_failure(policy, at)
    assert state.locked_for_good
    assert state.is_locked(at + timedelta(days=3650))
    state.record_success()  # nothing but an admin reset (a new AttemptState) unlocks it
    assert state.is_locked(at + timedelta(days=3650))


def test_a_pin_unlocked_after_its_hour_can_be_locked_again() -> None:
    policy = LockoutPolicy.for_length(5)
    state = AttemptState()
    _fail(state, policy, 25, T0)
    assert state.is_locked(T0)
    later = T0 + timedelta(hours=1)
    assert not state.is_locked(later)
    _fail(state, policy, 24, later)
    assert not state.is_locked(later)
    state.record_failure(policy, later)
    assert state.locked_until == later + timedelta(hours=1)


_EVENTS = st.lists(
    st.one_of(
        st.just(("fail", 0)),
        st.just(("success", 0)),
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=120)),
    ),
    max_size=300,
)


@settings(max_examples=200)
@given(length=st.sampled_from([4, 5, 6]), events=_EVENTS)
def test_lockout_counters_stay_consistent_under_any_sequence_of_attempts(
    length: int, events: list[tuple[str, int]]
) -> None:
    policy = LockoutPolicy.for_length(length)
    state = AttemptState()
    now, failures = T0, 0
    for kind, minutes in events:
        if kind == "wait":
            now += timedelta(minutes=minutes)
        elif state.is_locked(now):
            continue  # the caller is turned away before the PIN is checked
        elif kind == "fail":
            state.record_failure(policy, now)
            failures += 1
        else:
            state.record_success()
        assert state.total_failures == failures
        assert state.locked_for_good == (failures >= policy.global_limit)
        if not state.locked_for_good:
            assert 0 <= state.failures_in_window < policy.local_limit
        if state.locked_until is not None and not state.locked_for_good:
            assert state.locked_until - now <= policy.lockout
