"""Chosen conference IDs may be memorable but not trivially guessable (DESIGN §2 rule 5, docs/conference-ids.md).

The oracle builds every trivially guessable ID of a length from its first digit and its step (0:
one digit repeated, +1: ascending, -1: descending, wrapping past 9 to 0), independently of how
`dialconf.domain.ids` recognises them.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialconf.domain import ids
from dialconf.errors import InvalidConferenceId

DIGITS = st.text(alphabet="0123456789", min_size=ids.MIN_BRIDGE_ID_LENGTH, max_size=ids.MAX_BRIDGE_ID_LENGTH)


def oracle_guessable(length: int) -> set[str]:
    return {
        "".join(str((first + step * i) % 10) for i in range(length))
        for first in range(10)
        for step in (0, 1, -1)
    }


@pytest.mark.parametrize(
    ("digits", "why"),
    [
        ("1111111", "one digit repeated"),
        ("9999", "one digit repeated"),
        ("1234567", "a straight ascending run"),
        ("1234567890", "a straight ascending run"),
        ("8901234", "a straight ascending run"),  # wraps past 9: the same gesture on the keypad
        ("7654321", "a straight descending run"),
        ("2109876", "a straight descending run"),
    ],
)
def test_trivially_guessable_ids_are_named_for_what_makes_them_guessable(digits: str, why: str) -> None:
    assert ids.trivially_guessable(digits) == why
    with pytest.raises(
        InvalidConferenceId, match=rf"{digits} is trivially guessable \({why}\).*--allow-weak"
    ):
        ids.check_chosen(digits)


@pytest.mark.parametrize("digits", ["5555000", "1234568", "1212121", "2024100", "1357913", "9876543211"])
def test_memorable_ids_are_not_trivially_guessable(digits: str) -> None:
    assert ids.trivially_guessable(digits) is None
    assert ids.check_chosen(digits) == digits


def test_the_admin_may_insist_on_a_guessable_id() -> None:
    assert ids.check_chosen("1111111", allow_weak=True) == "1111111"


@given(digits=DIGITS)
def test_an_id_is_trivially_guessable_exactly_when_the_oracle_builds_it(digits: str) -> None:
    assert (ids.trivially_guessable(digits) is not None) == (digits in oracle_guessable(len(digits)))


@pytest.mark.parametrize("length", range(ids.MIN_BRIDGE_ID_LENGTH, ids.MAX_BRIDGE_ID_LENGTH + 1))
def test_every_id_the_oracle_builds_is_refused(length: int) -> None:
    built = oracle_guessable(length)
    assert len(built) == 30  # 10 first digits x 3 steps, all different for 4 digits or more
    assert all(ids.trivially_guessable(d) is not None for d in built)
