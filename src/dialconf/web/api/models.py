"""The bodies of the REST API: answers shaped like the CLI's --json, requests that refuse unknown fields.

Answers are the services' views (`to_dict()`), validated against these models on the way out, so
the OpenAPI schema describes exactly what the CLI's --json prints for the same action. Times are
ISO 8601 strings, as in the CLI. Request bodies use `extra="forbid"`: a misspelt field is a 422,
never silently ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- answers -------------------------------------------------------------------------------------


class TenantOut(BaseModel):
    name: str
    domain: str | None
    domains: list[str]
    conference_id_mode: str
    auto_email: bool
    pin_length: int
    email_from_address: str | None
    email_from_name: str | None
    meeting_migration: bool
    id_quarantine_days: int
    meeting_id_grace_days: int
    dialin_caller_max_failures: int
    dialin_caller_window_minutes: int
    dialin_caller_lockout_minutes: int
    dialin_bridge_max_failures: int
    dialin_bridge_delay_seconds: int
    jitsi_muc_domain: str | None
    jitsi_max_rooms: int
    caldav_url: str | None = None
    caldav_username: str | None = None
    caldav_connected: bool = False
    bridges: list[str]


class NumberOut(BaseModel):
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


class BridgeOut(BaseModel):
    name: str
    tenant: str
    id_length: int
    default_number: str | None
    ids_in_use: int
    numbers: list[NumberOut]


class UserOut(BaseModel):
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


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class ActionOut(UserOut):
    """The user as it is after the action (as `user show`), plus what the action did."""

    email_queued: bool
    message: str


class ResetOut(BaseModel):
    upn: str
    conference_id: str | None
    previous_conference_id: str | None
    email_queued: bool
    mode: str
    meetings_renewed: int
    message: str


class PinResetOut(BaseModel):
    upn: str
    pin: str = Field(description="The new PIN, in this answer only: it is never shown again.")
    email_queued: bool


class MailOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    tenant: str | None
    kind: str
    to: str
    from_: str = Field(alias="from")
    subject: str
    status: str
    attempts: int
    created_at: str
    sent_at: str | None
    last_error: str | None
    message_id: str


class MailPage(BaseModel):
    items: list[MailOut]
    next_cursor: str | None


class MailDetailOut(MailOut):
    body_text: str = Field(description="The text, with any PIN masked.")
    body_html: str
    redacted: bool


class AuditOut(BaseModel):
    id: int
    at: str
    tenant: str | None
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str | None


class AuditPage(BaseModel):
    items: list[AuditOut]
    next_cursor: str | None


class InfoSentOut(BaseModel):
    upn: str
    email_queued: bool
    message: str
    user: UserOut | None


class MeetingOut(BaseModel):
    id: int
    organizer: str
    subject: str
    start: str = Field(description="The first start, ISO 8601 in the meeting's timezone.")
    end: str
    timezone: str
    rrule: str | None
    attendees: list[str]
    conference_id: str = Field(description="The digits callers type.")
    status: str = Field(description="scheduled or cancelled")


class MeetingPage(BaseModel):
    items: list[MeetingOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class MigrationOut(BaseModel):
    id: int
    upn: str
    reason: str
    state: str = Field(description="pending, in_progress, succeeded or failed")
    attempts: int
    meetings_updated: int
    last_message: str | None
    created_at: str
    updated_at: str
    next_attempt_at: str | None = Field(description="When a pending or failed job is tried (again).")


class MigrationSummaryOut(BaseModel):
    pending: int
    in_progress: int
    succeeded: int
    failed: int
