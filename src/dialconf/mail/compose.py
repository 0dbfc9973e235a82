"""Render the emails of DESIGN §5 from Jinja2 templates: a text part, an HTML part and a subject."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Jinja2 is imported when a mail is first rendered: commands that send none skip it
    from jinja2 import Environment


class MailKind(StrEnum):
    WELCOME = "welcome"
    CONFERENCE_ID_CHANGED = "conference_id_changed"
    DEFAULT_NUMBER_CHANGED = "default_number_changed"
    PIN_RESET = "pin_reset"
    CONFERENCE_INFO = "conference_info"
    DIALIN_REMOVED = "dialin_removed"


# the only kinds that may ever carry a PIN (DESIGN §5)
CARRIES_PIN = frozenset({MailKind.WELCOME, MailKind.PIN_RESET})

SUBJECTS = {
    MailKind.WELCOME: "You can now join {org} meetings by phone",
    MailKind.CONFERENCE_ID_CHANGED: "Your conference ID has changed",
    MailKind.DEFAULT_NUMBER_CHANGED: "Your dial-in number has changed",
    MailKind.PIN_RESET: "Your audio conferencing PIN has been reset",
    MailKind.CONFERENCE_INFO: "Your audio conferencing information",
    MailKind.DIALIN_REMOVED: "Dial-in audio conferencing has been removed from your meetings",
}


@dataclass(frozen=True)
class DialNumber:
    number: str  # formatted internationally
    label: str  # city or country, may be empty


@dataclass(frozen=True)
class ThirdParty:
    provider_name: str
    toll_number: str
    toll_free_numbers: list[str]
    participant_passcode: str
    url: str | None


@dataclass(frozen=True)
class MailInfo:
    org: str
    display_name: str
    conference_id: str | None  # spoken form ('123 456 7#'), None in dynamic mode
    dynamic: bool
    toll: DialNumber | None
    toll_free: DialNumber | None
    all_numbers_url: str
    meeting_migration: bool
    pin: str | None = None
    previous_conference_id: str | None = None
    third_party: ThirdParty | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _env() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("dialconf.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


# Per-person fields are rendered as markers and filled in afterwards, so that a bulk reset of
# 100,000 users renders each distinct layout once instead of 100,000 times.
_PERSONAL = ("display_name", "conference_id", "pin", "previous_conference_id")
_MARK = "\x1edialconf-{}\x1e"


_OTHER = tuple(f.name for f in fields(MailInfo) if f.name not in _PERSONAL)
_MARKED = re.compile("\x1edialconf-(" + "|".join(_PERSONAL) + ")\x1e")


def compose(kind: MailKind, info: MailInfo) -> Composed:
    """Render one email: subject, text part and HTML part. Only welcome and PIN mails may carry a PIN."""
    if kind not in CARRIES_PIN and info.pin is not None:
        raise ValueError(f"a {kind} email never carries a PIN")
    key = _layout_key(kind, info)
    layout = _LAYOUTS.get(key)
    if layout is None:
        markers: dict[str, Any] = {
            f: (_MARK.format(f) if getattr(info, f) is not None else None) for f in _PERSONAL
        }
        marked = replace(info, **markers)
        text, html = _render(kind, repr(marked), marked)
        # split at the markers: literal text at even positions, field names at odd ones
        layout = (_MARKED.split(text), _MARKED.split(html))
        if len(_LAYOUTS) >= _RENDERED_MAX:
            _LAYOUTS.clear()
        _LAYOUTS[key] = layout
    text_parts, html_parts = list(layout[0]), list(layout[1])
    text_parts[1::2] = [getattr(info, f) for f in layout[0][1::2]]
    html_parts[1::2] = [_escape(getattr(info, f)) for f in layout[1][1::2]]
    return Composed(
        subject=SUBJECTS[kind].format(org=info.org), text="".join(text_parts), html="".join(html_parts)
    )


PIN_MASK = "•••••"
# where _pin.txt and _pin.html print the PIN: after the label, in the text or in its <strong>/<span>
_SHOWN_PIN = re.compile(r"(Your leader PIN:(?:</strong>)?\s*(?:<span[^>]*>)?)\d+")


def mask_pin(body: str) -> str:
    """The text or HTML of a PIN email with the PIN replaced by dots, as anyone but its recipient sees it."""
    return _SHOWN_PIN.sub(lambda m: m.group(1) + PIN_MASK, body)


_NEEDS_ESCAPE = re.compile("[&<>\"']")


def _escape(value: str) -> str:
    """str(markupsafe.escape(value)), without its cost when there is nothing to escape."""
    if not _NEEDS_ESCAPE.search(value):
        return value
    from markupsafe import escape

    return str(escape(value))


def _layout_key(kind: MailKind, info: MailInfo) -> tuple[Any, ...]:
    """What the rendered layout depends on: every field but the personal ones, and which of those are set."""
    third_party = info.third_party
    return (
        kind,
        info.org,
        info.dynamic,
        info.toll,
        info.toll_free,
        info.all_numbers_url,
        info.meeting_migration,
        repr(third_party) if third_party is not None else None,  # holds a list: not hashable
        tuple(info.extra.items()),
        info.display_name is not None,
        info.conference_id is not None,
        info.pin is not None,
        info.previous_conference_id is not None,
    )


# _layout_key names every field of MailInfo: a new field must be added there too
assert _OTHER == (
    "org",
    "dynamic",
    "toll",
    "toll_free",
    "all_numbers_url",
    "meeting_migration",
    "third_party",
    "extra",
), _OTHER


_LAYOUTS: dict[tuple[Any, ...], tuple[list[str], list[str]]] = {}
_RENDERED: dict[tuple[MailKind, str], tuple[str, str]] = {}
_RENDERED_MAX = 512


def _render(kind: MailKind, key: str, marked: MailInfo) -> tuple[str, str]:
    found = _RENDERED.get((kind, key))
    if found is None:
        env = _env()
        context = {"kind": kind.value, "info": marked}
        found = (
            env.get_template(f"{kind.value}.txt").render(context),
            env.get_template(f"{kind.value}.html").render(context),
        )
        if len(_RENDERED) >= _RENDERED_MAX:
            _RENDERED.clear()
        _RENDERED[(kind, key)] = found
    return found
