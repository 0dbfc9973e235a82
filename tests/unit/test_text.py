"""Names as stored: control characters and bidirectional controls never reach the database."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialconf.domain.text import clean_name

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_a_right_to_left_override_and_a_bell_are_removed() -> None:
    assert clean_name("\u202eevil\x07") == "evil"


def test_every_bidirectional_mark_override_and_isolate_is_removed() -> None:
    assert clean_name("".join(f"a{c}" for c in BIDI) + "a") == "a" * (len(BIDI) + 1)


@pytest.mark.parametrize("raw", ["Ada\nLovelace", "Ada\r\nLovelace", "Ada\tLovelace", "Ada\u2028Lovelace"])
def test_line_breaks_and_tabs_become_one_space(raw: str) -> None:
    assert clean_name(raw) == "Ada Lovelace"


@pytest.mark.parametrize(
    "name", ["Eve [/x] Evil", "José Ñúñez", "李小龍", "محمد علي", "Zoë :smile: O'Brien-Smith", "👩‍💻 Dev"]
)
def test_ordinary_names_brackets_and_other_scripts_stay_as_typed(name: str) -> None:
    assert clean_name(name) == name


def test_surrounding_spaces_are_trimmed() -> None:
    assert clean_name("  Ada Lovelace \x00 ") == "Ada Lovelace"


@given(st.text())
def test_no_control_or_bidirectional_character_survives(raw: str) -> None:
    cleaned = clean_name(raw)
    assert not any(unicodedata.category(c) == "Cc" or c in BIDI for c in cleaned)
    assert cleaned == cleaned.strip()
