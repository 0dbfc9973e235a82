"""Render the emails of DESIGN §5 from Jinja2 templates: a text part, an HTML part and a subject."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import escape


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


def compose(kind: MailKind, info: MailInfo) -> Composed:
    """Render one email: subject, text part and HTML part. Only welcome and PIN mails may carry a PIN."""
    if kind not in CARRIES_PIN and info.pin is not None:
        raise ValueError(f"a {kind} email never carries a PIN")
    marked = replace(
        info, **{f: (_MARK.format(f) if getattr(info, f) is not None else None) for f in _PERSONAL}
    )
    text, html = _render(kind, repr(marked), marked)
    for f in _PERSONAL:
        value = getattr(info, f)
        if value is not None:
            text = text.replace(_MARK.format(f), value)
            html = html.replace(_MARK.format(f), str(escape(value)))
    return Composed(subject=SUBJECTS[kind].format(org=info.org), text=text, html=html)


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
