"""What services hand back to surfaces: plain dataclasses that turn into JSON-ready dicts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class View:
    def to_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in asdict(self).items()}  # type: ignore[call-overload]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and how many rows match in all: a surface says when it shows only part.

    A list may stop counting at a cap (users.list_users): `total_capped` then says that more than
    `total` rows match, and `offset_capped` that `offset` or more rows come before the page.
    """

    items: list[T]
    total: int
    offset: int = 0
    total_capped: bool = False
    offset_capped: bool = False
    # whether rows match after this page, where the list knows it apart from the counts
    more_after: bool | None = None

    @property
    def truncated(self) -> bool:
        """Rows after this page match too."""
        if self.more_after is not None:
            return self.more_after
        return self.offset + len(self.items) < self.total

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class TenantView(View):
    name: str
    domain: str | None  # the primary domain, first of `domains`
    domains: list[str]
    conference_id_mode: str
    auto_email: bool
    pin_length: int
    email_from_address: str | None
    email_from_name: str | None
    meeting_migration: bool
    id_quarantine_days: int
    meeting_id_grace_days: int = 1
    dialin_caller_max_failures: int = 5
    dialin_caller_window_minutes: int = 15
    dialin_caller_lockout_minutes: int = 30
    dialin_bridge_max_failures: int = 100
    dialin_bridge_delay_seconds: int = 5
    jitsi_muc_domain: str | None = None
    jitsi_max_rooms: int = 10_000
    # the CalDAV calendar a migration also rewrites; its password is never part of a view
    caldav_url: str | None = None
    caldav_username: str | None = None
    caldav_connected: bool = False
    bridges: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NumberView(View):
    number: str
    display: str
    tenant: str
    bridge: str
    toll_free: bool
    default: bool
    city: str | None
    country: str | None
    primary_language: str
    secondary_languages: list[str]


@dataclass(frozen=True)
class BridgeView(View):
    name: str
    tenant: str
    id_length: int
    default_number: str | None
    ids_in_use: int
    numbers: list[NumberView]


@dataclass(frozen=True)
class UserView(View):
    upn: str
    tenant: str
    display_name: str
    email: str
    enabled: bool
    provider: str
    bridge: str
    country: str | None
    conference_id: str | None
    conference_id_display: str
    toll_number: str | None
    toll_free_number: str | None
    toll_free_allowed: bool
    pin_set: bool
    pin_locked: bool
    third_party: dict[str, Any] | None


@dataclass(frozen=True)
class ResetResult(View):
    upn: str
    conference_id: str | None
    previous_conference_id: str | None
    email_queued: bool
    mode: str
    meetings_renewed: int
    message: str


@dataclass(frozen=True)
class PinResetResult(View):
    upn: str
    pin: str
    email_queued: bool


@dataclass(frozen=True)
class ActionResult(View):
    upn: str
    email_queued: bool
    message: str
    user: UserView | None = None

    def user_dict(self) -> dict[str, Any]:
        """The user as it is now (or just its UPN), with what the action did: `user enable|disable|set-acp
        ... --json` and the API's answer to the same actions."""
        data: dict[str, Any] = self.user.to_dict() if self.user else {"upn": self.upn}
        data["email_queued"] = self.email_queued
        data["message"] = self.message
        return data


@dataclass(frozen=True)
class MailView(View):
    id: int
    tenant: str | None
    kind: str
    to: str
    from_: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    message_id: str

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["from"] = data.pop("from_")
        return data


@dataclass(frozen=True)
class MailDetail(MailView):
    body_text: str = ""
    body_html: str = ""
    redacted: bool = False


@dataclass(frozen=True)
class AuditView(View):
    id: int
    at: datetime
    tenant: str | None
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str | None


@dataclass(frozen=True)
class LookupResult(View):
    """How a call is answered. `reason` is what the caller may hear; `detail` is for admins only."""

    result: str  # join | reject
    # one text for every invalid ID, so that a caller cannot tell an unknown ID from a released one
    reason: str
    upn: str | None = None
    meeting: str | None = None
    room: str | None = None
    tenant: str | None = None
    bridge: str | None = None
    locked_until: datetime | None = None
    detail: str | None = None  # the admin-facing why (CLI, API); a PBX plays only `reason`
    language: str | None = None  # the service number's language: the PBX plays its prompts in it
    delay_seconds: int = 0  # over the bridge's guessing limit: wait this long before answering the caller


@dataclass(frozen=True)
class AdminView(View):
    email: str
    tenant: str | None
    role: str


@dataclass(frozen=True)
class BulkTarget(View):
    """A user a bulk reset would change, as it is now."""

    upn: str
    email: str
    conference_id: str | None


@dataclass(frozen=True)
class BulkPlan(View):
    """Who a bulk reset would change, counted before anything is written (dry run, confirmation)."""

    tenant: str
    action: str  # conference_id | pin
    mode: str  # the tenant's conference ID mode
    email: bool  # whether each changed user would be emailed
    users: list[BulkTarget]
    user_ids: tuple[int, ...] = field(default=(), repr=False)

    @property
    def count(self) -> int:
        return len(self.users)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        del data["user_ids"]  # database keys, not something a reader can use
        return {"dry_run": True, "count": self.count, **data}
