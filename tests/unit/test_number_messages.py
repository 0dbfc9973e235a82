"""Phone number errors speak dialconf's words: what is wrong and how to write it, never the library's text."""

from __future__ import annotations

import pytest

from dialconf.domain import numbers
from dialconf.errors import InvalidPhoneNumber

# what the phonenumbers library says, which means nothing to an admin typing a number
LIBRARY_WORDS = ("default region", "did not seem", "supplied", "IDD", "NSN", "too short to be")


def message_for(typed: str) -> str:
    with pytest.raises(InvalidPhoneNumber) as raised:
        numbers.parse_e164(typed)
    message = raised.value.message
    assert not any(word.lower() in message.lower() for word in LIBRARY_WORDS), message
    return message


@pytest.mark.parametrize("typed", ["4255550100", "(425) 555-0100", "12", "00 1 425 555 0100"])
def test_a_number_without_country_code_is_asked_for_in_international_form(typed: str) -> None:
    assert message_for(typed) == (
        f"'{typed}' is not a phone number: write it in international form, such as +14255550100"
    )


def test_an_unknown_country_calling_code_is_named_as_such() -> None:
    message = message_for("+999 1234567")
    assert message.startswith("'+999 1234567' is not a phone number: ")
    assert "known country calling code" in message and "+14255550100" in message


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        pytest.param("abc", "write it in international form", id="letters"),
        pytest.param("+", "write it in international form", id="plus-alone"),
        pytest.param("+1 425 555 0100 0100 0100 01", "too long", id="too-long"),
        pytest.param("+1234", "check the country code and the number of digits", id="not-valid"),
        pytest.param("+1 555 0100", "check the country code and the number of digits", id="too-few-digits"),
    ],
)
def test_each_kind_of_bad_number_says_what_is_wrong_in_dialconfs_words(typed: str, problem: str) -> None:
    message = message_for(typed)
    assert message.startswith(f"'{typed}' is not ") and "phone number" in message
    assert problem in message


def test_the_message_quotes_what_was_typed_without_its_surrounding_spaces() -> None:
    assert message_for("  4255550100 ").startswith("'4255550100' is not a phone number")
