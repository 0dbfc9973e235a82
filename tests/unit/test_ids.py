"""Conference ID rules (DESIGN §2): parsing, weak patterns, random drawing and batch sizing.

The weak-pattern checks below are written independently of `dialconf.domain.ids` (an "oracle"), so a
test compares the implementation with a second reading of the rules instead of with itself.
"""

from __future__ import annotations

import math
import re
import secrets
from collections import Counter
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker

from dialconf.domain import ids
from dialconf.domain.ids import ConferenceId
from dialconf.errors import InvalidConferenceId
from dialconf.store.uow import UnitOfWork

LENGTHS = st.integers(min_value=ids.MIN_BRIDGE_ID_LENGTH, max_value=ids.MAX_BRIDGE_ID_LENGTH)
SEEDS = st.integers(min_value=0, max_value=2**64)

# --- an independent reading of "not easy to guess" -------------------------------------------------

_ASCENDING = "0123456789"
_DESCENDING = _ASCENDING[::-1]


def oracle_repeats_a_digit_four_times(digits: str) -> bool:
    return re.search(r"(\d)\1{3}", digits) is not None


def oracle_has_run_of_five(digits: str) -> bool:
    windows = {digits[i : i + 5] for i in range(len(digits) - 4)}
    return any(w in _ASCENDING or w in _DESCENDING for w in windows)


def oracle_is_repeated_group(digits: str) -> bool:
    n = len(digits)
    return any((digits[:p] * n)[:n] == digits for p in range(1, n // 2 + 1))


def oracle_is_weak(digits: str) -> bool:
    return (
        oracle_repeats_a_digit_four_times(digits)
        or oracle_has_run_of_five(digits)
        or oracle_is_repeated_group(digits)
    )


def _digit_strings(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=min_size, max_size=max_size)


# --- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["123 456 7#", "1234567", "1234567#", " 123-456-7 ", "123.456.7", "123\t456 7 #"],
)
def test_parse_accepts_the_ways_people_type_an_id(typed: str) -> None:
    assert ConferenceId.parse(typed, length=7).digits == "1234567"


@pytest.mark.parametrize(
    ("typed", "complaint"),
    [
        ("12a4567", "digits only"),
        ("ABCDEFG", "digits only"),
        ("123456", "has 6 digits; this bridge uses 7-digit IDs"),
        ("12345678", "has 8 digits; this bridge uses 7-digit IDs"),
        ("0123456", "must not start with 0"),
        ("", "empty"),
        ("#", "empty"),
        ("1234567##", "digits only"),
        ("١٢٣٤٥٦٧", "digits only"),  # Arabic-Indic digits are digits to str.isdigit, not to a keypad
    ],
)
def test_parse_rejects_letters_wrong_length_and_leading_zero(typed: str, complaint: str) -> None:
    with pytest.raises(InvalidConferenceId) as raised:
        ConferenceId.parse(typed, length=7)
    assert complaint in raised.value.message


@given(length=LENGTHS, data=st.data())
def test_an_id_read_back_from_its_spoken_form_is_the_same_id(length: int, data: st.DataObject) -> None:
    digits = data.draw(st.sampled_from("123456789")) + data.draw(_digit_strings(length - 1, length - 1))
    spoken = ConferenceId(digits).spoken()
    assert spoken.endswith("#")
    assert ConferenceId.parse(spoken, length=length).digits == digits


@given(length=LENGTHS, data=st.data())
def test_any_id_with_a_letter_in_it_is_rejected(length: int, data: st.DataObject) -> None:
    digits = data.draw(_digit_strings(length - 1, length - 1))
    letter = data.draw(st.sampled_from("abcxyzABCXYZ*+"))
    at = data.draw(st.integers(min_value=0, max_value=len(digits)))
    with pytest.raises(InvalidConferenceId):
        ConferenceId.parse(digits[:at] + letter + digits[at:], length=length)


@given(length=LENGTHS, other=LENGTHS, data=st.data())
def test_an_id_of_another_length_than_the_bridge_is_rejected(
    length: int, other: int, data: st.DataObject
) -> None:
    if other == length:
        other = length + 1
    digits = "9" + data.draw(_digit_strings(other - 1, other - 1))
    with pytest.raises(InvalidConferenceId, match=f"this bridge uses {length}-digit IDs"):
        ConferenceId.parse(digits, length=length)


def test_spoken_form_groups_by_three_and_ends_with_hash() -> None:
    assert ConferenceId("1234567").spoken() == "123 456 7#"
    assert ids.format_for_callers("1234") == "123 4#"


@pytest.mark.parametrize("length", [4, 7, 10])
def test_bridge_lengths_from_4_to_10_are_allowed(length: int) -> None:
    assert ids.validate_bridge_length(length) == length


@pytest.mark.parametrize("length", [0, 3, 11])
def test_bridge_lengths_outside_4_to_10_are_refused(length: int) -> None:
    with pytest.raises(InvalidConferenceId, match="4 to 10"):
        ids.validate_bridge_length(length)


def test_third_party_ids_take_4_to_20_digits_typed_freely() -> None:
    assert ids.parse_third_party_id("0123") == "0123"  # a provider's ID may start with 0
    assert ids.parse_third_party_id("1234 5678 9012 3456 7890#") == "12345678901234567890"
    for bad in ("123", "1" * 21, "12a4"):
        with pytest.raises(InvalidConferenceId):
            ids.parse_third_party_id(bad)


# --- weak patterns -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "pattern"),
    [
        ("1231231", "repeated group"),
        ("4545454", "repeated group"),
        ("12121212", "repeated group"),
        ("5555123", "repeated 4 or more"),
        ("2899993", "repeated 4 or more"),
        ("9123457", "run of 5"),
        ("6598765", "run of 5"),
        ("7777777", "repeated 4 or more"),
    ],
)
def test_guessable_ids_are_named_weak(digits: str, pattern: str) -> None:
    reason = ids.weakness(digits)
    assert reason is not None and pattern in reason


@pytest.mark.parametrize("digits", ["2718281", "3141592", "1234976", "5558555", "9876123", "1231234"])
def test_ordinary_ids_are_not_weak(digits: str) -> None:
    assert ids.weakness(digits) is None


@given(prefix=_digit_strings(0, 4), digit=st.sampled_from("0123456789"), suffix=_digit_strings(0, 4))
def test_a_digit_four_times_in_a_row_is_always_weak(prefix: str, digit: str, suffix: str) -> None:
    assert ids.weakness(prefix + digit * 4 + suffix) is not None


@given(
    prefix=_digit_strings(0, 4),
    start=st.integers(min_value=0, max_value=5),
    descending=st.booleans(),
    suffix=_digit_strings(0, 4),
)
def test_a_run_of_five_up_or_down_is_always_weak(
    prefix: str, start: int, descending: bool, suffix: str
) -> None:
    run = (_DESCENDING if descending else _ASCENDING)[start : start + 5]
    assert ids.weakness(prefix + run + suffix) is not None


@given(group=_digit_strings(1, 5), length=LENGTHS)
def test_an_id_made_of_one_repeated_group_is_always_weak(group: str, length: int) -> None:
    if len(group) * 2 > length:
        group = group[: length // 2]
    digits = (group * length)[:length]
    assert ids.weakness(digits) is not None


@given(digits=_digit_strings(4, 10))
def test_weakness_agrees_with_an_independent_reading_of_the_rules(digits: str) -> None:
    assert (ids.weakness(digits) is not None) == oracle_is_weak(digits)


def test_every_4_digit_id_is_classified_as_the_rules_say() -> None:
    expected = [str(n) for n in range(1000, 10000) if not oracle_is_weak(str(n))]
    assert ids.enumerate_space(4) == expected


# --- drawing -------------------------------------------------------------------------------------


@settings(max_examples=300)
@given(seed=SEEDS, length=LENGTHS)
def test_generated_ids_have_the_bridge_length_no_leading_zero_and_no_weak_pattern(
    seed: int, length: int
) -> None:
    digits = ids.draw(Random(seed), length)
    assert len(digits) == length
    assert digits.isascii() and digits.isdigit()
    assert digits[0] != "0"
    assert not oracle_repeats_a_digit_four_times(digits)
    assert not oracle_has_run_of_five(digits)
    assert not oracle_is_repeated_group(digits)
    assert ConferenceId.parse(digits, length=length).digits == digits


@settings(max_examples=50)
@given(seed=SEEDS, length=LENGTHS, count=st.integers(min_value=1, max_value=300))
def test_a_drawn_batch_holds_distinct_acceptable_ids(seed: int, length: int, count: int) -> None:
    batch = ids.draw_batch(Random(seed), length, count)
    assert len(batch) == len(set(batch))
    assert all(ids.is_acceptable_generated(d) and len(d) == length for d in batch)
    if length >= 6:
        assert len(batch) == count  # a big space never runs short of fresh candidates


def test_a_batch_larger_than_a_tiny_space_stops_instead_of_looping() -> None:
    batch = ids.draw_batch(Random(1), 4, 20_000)
    assert 0 < len(batch) <= len(ids.enumerate_space(4))


def test_drawn_ids_spread_over_every_leading_digit() -> None:
    rng = Random(7)
    leading = {ids.draw(rng, 7)[0] for _ in range(2000)}
    assert leading == set("123456789")


@pytest.mark.parametrize("length", [4, 7, 10])
def test_ids_from_the_system_csprng_keep_every_rule_and_are_spread_evenly(length: int) -> None:
    # the source a real unit of work uses; the bounds are over 6 standard deviations wide, so a
    # fair generator fails them less than once in a billion runs, a biased or stuck one every time
    drawn = [ids.draw(secrets.SystemRandom(), length) for _ in range(4500)]
    assert all(len(d) == length and d[0] != "0" and ids.is_acceptable_generated(d) for d in drawn)
    first = Counter(d[0] for d in drawn)
    assert set(first) == set("123456789")
    assert all(370 <= n <= 630 for n in first.values()), first  # 500 expected for each
    last = Counter(d[-1] for d in drawn)
    assert set(last) == set("0123456789")
    assert all(325 <= n <= 575 for n in last.values()), last  # 450 expected for each
    if length == 10:  # ~9 billion IDs: two equal draws out of 4,500 would mean a narrow source
        assert len(set(drawn)) >= 4499


def test_unit_of_work_draws_from_the_operating_system_csprng_by_default() -> None:
    uow = UnitOfWork(sessionmaker(), pin_key=lambda: b"k")
    assert isinstance(uow.rng, secrets.SystemRandom)


# --- batch sizing and the size of the space --------------------------------------------------------


def test_batch_at_99_percent_occupancy_misses_a_free_id_with_probability_below_one_in_a_million() -> None:
    size = ids.batch_size_for(0.99)
    assert 0.99**size < 1e-6
    assert size <= 1500  # still one round trip of a reasonable size


@given(occupancy=st.floats(min_value=0.0, max_value=0.995))
def test_batch_size_keeps_the_miss_probability_below_one_in_a_million(occupancy: float) -> None:
    size = ids.batch_size_for(occupancy)
    assert 4 <= size <= 4000
    assert occupancy**size < 1e-6


@given(a=st.floats(min_value=0.0, max_value=1.0), b=st.floats(min_value=0.0, max_value=1.0))
def test_a_fuller_bridge_never_gets_a_smaller_batch(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert ids.batch_size_for(low) <= ids.batch_size_for(high)


def test_a_full_bridge_gets_the_largest_batch() -> None:
    assert ids.batch_size_for(1.0) == ids.batch_size_for(1.5) == 4000


@pytest.mark.parametrize("length", [4, 5, 6])
def test_acceptable_share_matches_the_enumerated_space(length: int) -> None:
    space = len(ids.enumerate_space(length))
    exact = space / (9 * 10 ** (length - 1))
    assert ids.ACCEPTABLE_SHARE[length] == pytest.approx(exact, abs=0.001)
    assert ids.usable_space(length) == pytest.approx(space, rel=0.001)


@pytest.mark.parametrize("length", [7, 8, 9, 10])
def test_acceptable_share_of_long_ids_matches_a_sample(length: int) -> None:
    rng = Random(length)
    n = 60_000
    low, high = 10 ** (length - 1), 10**length - 1
    accepted = sum(not oracle_is_weak(str(rng.randint(low, high))) for _ in range(n))
    # standard error is about 0.0003 at n=60,000; allow 5 of them
    assert ids.ACCEPTABLE_SHARE[length] == pytest.approx(accepted / n, abs=0.0015)


def test_enumerating_a_seven_digit_space_is_refused() -> None:
    with pytest.raises(ValueError):
        ids.enumerate_space(7)


def test_usable_space_of_a_seven_digit_bridge_is_nearly_nine_million() -> None:
    assert 8_900_000 < ids.usable_space(7) < 9_000_000
    assert math.isclose(ids.usable_space(7), 9_000_000 * ids.ACCEPTABLE_SHARE[7], abs_tol=1)
