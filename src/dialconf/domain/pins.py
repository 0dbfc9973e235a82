"""Leader PINs: generation, keyed hashing and the lockout policy (DESIGN §3)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from random import Random

from dialconf.domain.ids import has_repeated_digit, has_sequential_run, is_repeated_group
from dialconf.errors import InvalidSetting

MIN_PIN_LENGTH = 4
MAX_PIN_LENGTH = 12
DEFAULT_PIN_LENGTH = 5


def validate_pin_length(length: int) -> int:
    if not MIN_PIN_LENGTH <= length <= MAX_PIN_LENGTH:
        raise InvalidSetting(f"PIN length must be {MIN_PIN_LENGTH} to {MAX_PIN_LENGTH} digits, not {length}")
    return length


def pin_weakness(pin: str, phone_digits: str = "") -> str | None:
    """Name the guessable pattern in a PIN, or None."""
    if has_repeated_digit(pin):
        return "a digit repeated 4 or more times in a row"
    if has_sequential_run(pin, length=4):
        return "4 or more consecutive digits"
    if is_repeated_group(pin):
        return "a repeated group of digits"
    if phone_digits and (pin in phone_digits or phone_digits[-len(pin) :] == pin):
        return "digits of the user's own phone number"
    return None


def generate_pin(rng: Random, length: int, *, phone_digits: str = "") -> str:
    """A random PIN of `length` digits that avoids common patterns and the user's phone digits."""
    validate_pin_length(length)
    while True:
        pin = "".join(str(rng.randrange(10)) for _ in range(length))
        if pin_weakness(pin, phone_digits) is None:
            return pin


def hash_pin(key: bytes, user_key: str, pin: str) -> str:
    """Keyed hash of a PIN: HMAC-SHA256 over the user's identity and the PIN.

    Without the secret key (kept outside the database) a copy of the database does not reveal
    PINs, even though the PIN space is small; binding the user's identity stops one table row
    from being copied onto another user.
    """
    message = f"{user_key}\x00{pin}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify_pin(key: bytes, user_key: str, pin: str, stored: str) -> bool:
    return hmac.compare_digest(hash_pin(key, user_key, pin), stored)


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """Failed PIN attempts, modelled on Skype for Business Server's automatic PIN policy.

    Within a 30-minute observation window, `local_limit` failures lock the PIN for an hour; the
    `global_limit` failures since the last admin reset lock it until an admin resets the PIN.
    """

    local_limit: int
    global_limit: int
    window: timedelta = timedelta(minutes=30)
    lockout: timedelta = timedelta(hours=1)

    @classmethod
    def for_length(cls, pin_length: int) -> LockoutPolicy:
        if pin_length <= 4:
            return cls(local_limit=10, global_limit=100)
        if pin_length == 5:
            return cls(local_limit=25, global_limit=1000)
        return cls(local_limit=25, global_limit=5000)


@dataclass(slots=True)
class AttemptState:
    failures_in_window: int = 0
    window_started: datetime | None = None
    total_failures: int = 0
    locked_until: datetime | None = None
    locked_for_good: bool = False

    def is_locked(self, now: datetime) -> bool:
        return self.locked_for_good or (self.locked_until is not None and now < self.locked_until)

    def record_failure(self, policy: LockoutPolicy, now: datetime) -> None:
        if self.window_started is None or now - self.window_started > policy.window:
            self.window_started = now
            self.failures_in_window = 0
        self.failures_in_window += 1
        self.total_failures += 1
        if self.total_failures >= policy.global_limit:
            self.locked_for_good = True
        elif self.failures_in_window >= policy.local_limit:
            self.locked_until = now + policy.lockout
            self.failures_in_window = 0
            self.window_started = None

    def record_success(self) -> None:
        self.failures_in_window = 0
        self.window_started = None
