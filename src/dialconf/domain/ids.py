"""Conference IDs: parsing, weak-pattern rules and random generation (DESIGN §2)."""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass
from random import Random

from dialconf.errors import InvalidConferenceId

MIN_BRIDGE_ID_LENGTH = 4
MAX_BRIDGE_ID_LENGTH = 10
DEFAULT_BRIDGE_ID_LENGTH = 7
THIRD_PARTY_MIN = 4
THIRD_PARTY_MAX = 20

# what a caller or an admin may type around the digits: spaces, dashes, dots and the closing '#'
_DECORATION = re.compile(r"[\s\-.]")


def clean_digits(text: str) -> str:
    """Strip the decoration people type around an ID ('123 456 7#') and return the digits."""
    stripped = _DECORATION.sub("", text.strip())
    if stripped.endswith("#"):
        stripped = stripped[:-1]
    return stripped


@dataclass(frozen=True, slots=True)
class ConferenceId:
    digits: str

    @classmethod
    def parse(cls, text: str, *, length: int) -> ConferenceId:
        """Parse an ID typed by an admin or a caller for a bridge of `length` digits, or raise."""
        digits = clean_digits(text)
        if not digits:
            raise InvalidConferenceId("conference ID is empty")
        if not digits.isascii() or not digits.isdigit():
            raise InvalidConferenceId(f"conference ID '{text}' must contain digits only")
        if len(digits) != length:
            raise InvalidConferenceId(
                f"conference ID '{text}' has {len(digits)} digits; this bridge uses {length}-digit IDs"
            )
        if digits[0] == "0":
            raise InvalidConferenceId(f"conference ID '{text}' must not start with 0")
        return cls(digits)

    def spoken(self) -> str:
        """The ID the way callers read and type it: '123 456 7#'."""
        return format_for_callers(self.digits)

    def __str__(self) -> str:
        return self.digits


def parse_third_party_id(text: str) -> str:
    """Validate an ID an admin types for a third-party provider: digits only, 4 to 20 of them."""
    digits = clean_digits(text)
    if not digits.isascii() or not digits.isdigit():
        raise InvalidConferenceId(f"conference ID '{text}' must contain digits only")
    if not THIRD_PARTY_MIN <= len(digits) <= THIRD_PARTY_MAX:
        raise InvalidConferenceId(
            f"conference ID '{text}' has {len(digits)} digits; a third-party ID has "
            f"{THIRD_PARTY_MIN} to {THIRD_PARTY_MAX}"
        )
    return digits


def format_for_callers(digits: str) -> str:
    """Group digits by three for reading and end with '#': '1234567' -> '123 456 7#'."""
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return " ".join(groups) + "#"


def validate_bridge_length(length: int) -> int:
    if not MIN_BRIDGE_ID_LENGTH <= length <= MAX_BRIDGE_ID_LENGTH:
        raise InvalidConferenceId(
            f"conference ID length must be {MIN_BRIDGE_ID_LENGTH} to {MAX_BRIDGE_ID_LENGTH} digits, not {length}"
        )
    return length


# The checks below run on every drawn candidate and on whole small spaces (a 6-digit bridge has
# 900,000 IDs), so they lean on C-level regex and slice comparisons instead of Python loops.
_ASCENDING = "0123456789"
_DESCENDING = _ASCENDING[::-1]


@functools.cache
def _repeat_pattern(times: int) -> re.Pattern[str]:
    return re.compile(rf"(\d)\1{{{times - 1}}}")


@functools.cache
def _run_pattern(length: int) -> re.Pattern[str] | None:
    runs = [seq[i : i + length] for seq in (_ASCENDING, _DESCENDING) for i in range(11 - length)]
    return re.compile("|".join(runs)) if runs else None


def has_repeated_digit(digits: str, times: int = 4) -> bool:
    """True if one digit appears `times` (2 or more) times in a row (e.g. 5555)."""
    return _repeat_pattern(times).search(digits) is not None


def has_sequential_run(digits: str, length: int = 5) -> bool:
    """True if the digits hold an ascending or descending run of `length` (2 or more) digits (12345, 98765)."""
    pattern = _run_pattern(length)
    return pattern is not None and pattern.search(digits) is not None


def is_repeated_group(digits: str) -> bool:
    """True if the whole ID repeats a shorter group: 1231231, 4545454, 12121212."""
    # periodic with period p <=> the string equals itself shifted by p
    for period in range(1, len(digits) // 2 + 1):  # noqa: SIM110 - a plain loop is faster on this hot path
        if digits[period:] == digits[:-period]:
            return True
    return False


def weakness(digits: str) -> str | None:
    """Name the guessable pattern in `digits`, or None when it is a good random ID."""
    if has_repeated_digit(digits):
        return "a digit repeated 4 or more times in a row"
    if has_sequential_run(digits):
        return "an ascending or descending run of 5 or more digits"
    if is_repeated_group(digits):
        return "a repeated group of digits"
    return None


def trivially_guessable(digits: str) -> str | None:
    """Name what makes a chosen ID the first thing a stranger would try, or None.

    A chosen ID may be memorable (5555000, 2024100), but not one digit repeated throughout
    (1111111) nor one straight run throughout, up or down the keypad, wrapping past 9 to 0 and back
    (1234567, 7654321, 8901234, 2109876): each of these is a guess, not a memory.
    """
    if len(set(digits)) == 1:
        return "one digit repeated"
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(digits)}
    if steps == {1}:
        return "a straight ascending run"
    if steps == {9}:
        return "a straight descending run"
    return None


def check_chosen(digits: str, *, allow_weak: bool = False) -> str:
    """Refuse a trivially guessable chosen ID unless the admin insists (`allow_weak`); returns the digits."""
    weak = trivially_guessable(digits)
    if weak is not None and not allow_weak:
        raise InvalidConferenceId(
            f"conference ID {digits} is trivially guessable ({weak}); choose another, "
            "or insist with --allow-weak"
        )
    return digits


def is_acceptable_generated(digits: str) -> bool:
    return digits[0] != "0" and weakness(digits) is None


def draw(rng: Random, length: int) -> str:
    """Draw one generated-ID candidate: exactly `length` digits, not starting with 0, not weak."""
    low, high = 10 ** (length - 1), 10**length - 1
    while True:
        digits = str(rng.randint(low, high))
        if weakness(digits) is None:
            return digits


def draw_batch(rng: Random, length: int, count: int) -> list[str]:
    """Draw `count` distinct acceptable candidates (fewer when the space is smaller than asked)."""
    seen: dict[str, None] = {}
    attempts = 0
    while len(seen) < count and attempts < count * 4:
        seen[draw(rng, length)] = None
        attempts += 1
    return list(seen)


def batch_size_for(occupancy: float, *, miss_probability: float = 1e-6, cap: int = 4000) -> int:
    """How many candidates to check in one round trip so that all are taken with < miss_probability.

    occupancy is the share of the usable ID space that is live or quarantined; at 99% a batch of
    about 1,400 random candidates still finds a free ID in one query with probability 1 - 1e-6.
    """
    if occupancy <= 0:
        return 4
    if occupancy >= 1:
        return cap
    # floor + 1, not ceil: at an exact boundary (0.1 ** 6) ceil would land on, not below, the target
    size = math.floor(math.log(miss_probability) / math.log(occupancy)) + 1
    return max(4, min(cap, size))


def enumerate_space(length: int) -> list[str]:
    """Every acceptable generated ID of `length` digits; only for small bridges (length <= 6)."""
    if length > 6:
        raise ValueError("enumerating a space of more than 6 digits is too large")
    return [s for s in (str(n) for n in range(10 ** (length - 1), 10**length)) if weakness(s) is None]


# Share of the raw space (first digit 1-9) that passes the weak-pattern filter, by length. Measured by
# enumerating lengths 4-6 exactly and sampling 400,000 draws for 7-10 (see tests/unit/test_ids.py).
ACCEPTABLE_SHARE = {4: 0.9900, 5: 0.9971, 6: 0.9959, 7: 0.9959, 8: 0.9947, 9: 0.9940, 10: 0.9930}


def usable_space(length: int) -> int:
    """Approximate number of acceptable generated IDs on a bridge of `length` digits."""
    raw = 9 * 10 ** (length - 1)
    return int(raw * ACCEPTABLE_SHARE.get(length, 0.99))
