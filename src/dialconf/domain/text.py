"""Names as stored: free text that people typed, without the characters that can disguise it."""

from __future__ import annotations

import re

# control characters (Unicode category Cc) that break a line or a column: they become one space
_BREAKS = re.compile("[\t\n\x0b\x0c\r\x1c-\x1f\x85\u2028\u2029]+")
# the other control characters, and the bidirectional marks, embeddings, overrides and isolates,
# which can make a name display as something else ('\u202eevil' shows reversed)
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_name(value: str) -> str:
    """A display name as stored: control and bidirectional characters removed, line breaks as spaces, trimmed."""
    if _HIDDEN.search(value) or _BREAKS.search(value):
        value = _HIDDEN.sub("", _BREAKS.sub(" ", value))
    return value.strip()
