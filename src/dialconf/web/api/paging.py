"""Cursors for the API's lists: opaque strings the client passes back as ?cursor= for the next page.

A users cursor is the last sign-in name of the page (base64url, so it travels in a query string as
is); an audit or mail cursor is the id of the last, oldest, row of the page. Either way the next
page continues right after it (keyset paging), so rows added meanwhile never shift a page.
"""

from __future__ import annotations

import base64
import binascii

from dialconf.errors import InvalidInput

MAX_ID = 2**63 - 1


def encode_name(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def decode_name(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("cursor is not one this API handed out; start again without it") from None


def decode_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isascii() or not cursor.isdigit() or not 0 < int(cursor) <= MAX_ID:
        raise InvalidInput("cursor is not one this API handed out; start again without it")
    return int(cursor)
