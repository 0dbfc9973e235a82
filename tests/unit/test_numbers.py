"""Phone numbers (DESIGN §1 'Service number'): parsed with `phonenumbers`, kept in E.164."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from dialconf.domain import numbers
from dialconf.errors import InvalidPhoneNumber

REGIONS_WITH_EXAMPLES = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if phonenumbers.example_number(r))


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("+14255550100", None, "+14255550100"),
        ("+1 425-555-0100", None, "+14255550100"),
        ("+1 (425) 555-0100", None, "+14255550100"),
        ("  +1.425.555.0100  ", None, "+14255550100"),
        ("(425) 555-0100", "US", "+14255550100"),
        ("+44 20 7946 0018", None, "+442079460018"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("+33 1 42 68 53 00", None, "+33142685300"),
        ("+1 800 555 0199", None, "+18005550199"),
    ],
)
def test_typed_numbers_are_kept_in_e164(typed: str, region: str | None, e164: str) -> None:
    assert numbers.parse_e164(typed, region=region) == e164


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "abc", "12345", "4255550100", "+1 555 0100", "+999 123", "+1 425 555 01000", "+44 20"],
)
def test_invalid_numbers_are_rejected_with_invalid_phone_number(typed: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as raised:
        numbers.parse_e164(typed)
    assert raised.value.message  # one clear line for the CLI and the API
    assert "\n" not in raised.value.message


@given(region=st.sampled_from(REGIONS_WITH_EXAMPLES))
def test_every_countrys_example_number_parses_from_international_and_national_forms(region: str) -> None:
    example = phonenumbers.example_number(region)
    e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
    international = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
    assert numbers.parse_e164(international) == e164
    assert numbers.parse_e164(national, region=region) == e164
    assert numbers.parse_e164(e164) == e164  # parsing is idempotent
    assert numbers.digits_of(e164) == e164[1:]


@given(text=st.text(alphabet="abcdefghijklmnopqrstuvwxyz !?", max_size=20))
def test_text_without_digits_is_never_a_phone_number(text: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        numbers.parse_e164(text)


def test_numbers_are_shown_to_people_in_international_format() -> None:
    assert numbers.international("+14255550100") == "+1 425-555-0100"
    assert numbers.international("+442079460018") == "+44 20 7946 0018"


def test_country_of_a_number_is_its_region() -> None:
    assert numbers.country_of("+14255550100") == "US"
    assert numbers.country_of("+442079460018") == "GB"
    assert numbers.country_of("+80012345678") is None  # international freephone: no country


def test_toll_free_numbers_are_recognised() -> None:
    assert numbers.looks_toll_free("+18005550199")
    assert not numbers.looks_toll_free("+14255550100")


@pytest.mark.parametrize(("code", "expected"), [("US", "US"), ("de", "DE"), (" gb ", "GB")])
def test_country_codes_are_normalised(code: str, expected: str) -> None:
    assert numbers.validate_country(code) == expected


@pytest.mark.parametrize("code", ["", "XX", "USA", "1"])
def test_unknown_country_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidPhoneNumber, match="not a known country code"):
        numbers.validate_country(code)
