"""Phone numbers: parse with `phonenumbers` and keep them in E.164 (DESIGN §1)."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from dialconf.errors import InvalidPhoneNumber

_TOLL_FREE_TYPES = {PhoneNumberType.TOLL_FREE}
INTERNATIONAL_FORM = "write it in international form, such as +14255550100"
_ParseError = phonenumbers.NumberParseException
# what dialconf says for each of the library's parse failures: its own messages are for programmers
_PARSE_PROBLEMS = {
    _ParseError.TOO_SHORT_AFTER_IDD: "it is too short",
    _ParseError.TOO_SHORT_NSN: "it is too short",
    _ParseError.TOO_LONG: "it is too long",
}


def parse_e164(text: str, *, region: str | None = None) -> str:
    """Parse a phone number typed by a person and return it in E.164 ('+14255550100'), or raise."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidPhoneNumber("phone number is empty")
    try:
        parsed = phonenumbers.parse(raw, region)
    except _ParseError as exc:
        raise InvalidPhoneNumber(f"'{raw}' is not a phone number: {_problem(raw, exc)}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(
            f"'{raw}' is not a valid phone number: check the country code and the number of digits"
        )
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def _problem(raw: str, exc: phonenumbers.NumberParseException) -> str:
    if exc.error_type == _ParseError.INVALID_COUNTRY_CODE:
        if raw.startswith("+"):
            return f"it does not start with a known country calling code; {INTERNATIONAL_FORM}"
        return INTERNATIONAL_FORM  # no region to read a national number in
    return _PARSE_PROBLEMS.get(exc.error_type, INTERNATIONAL_FORM)


# cached: every email of a bulk import or reset prints the same few service numbers
@lru_cache(maxsize=1024)
def international(e164: str) -> str:
    """Format an E.164 number for people: '+1 425-555-0100'."""
    return phonenumbers.format_number(phonenumbers.parse(e164), PhoneNumberFormat.INTERNATIONAL)


def country_of(e164: str) -> str | None:
    """The ISO 3166 region of a number ('US'), or None when it is not tied to one."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    return None if region in (None, "ZZ", "001") else region


def looks_toll_free(e164: str) -> bool:
    return phonenumbers.number_type(phonenumbers.parse(e164)) in _TOLL_FREE_TYPES


def validate_country(code: str) -> str:
    """Validate an ISO 3166-1 alpha-2 country code known to `phonenumbers`."""
    cc = (code or "").strip().upper()
    if cc not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidPhoneNumber(f"'{code}' is not a known country code (use two letters, such as US or DE)")
    return cc


def digits_of(e164: str) -> str:
    return "".join(ch for ch in e164 if ch.isdigit())
