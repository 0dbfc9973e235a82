"""Tables of dialconf, mapped with SQLAlchemy 2.0 declarative models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            from datetime import UTC

            value = value.replace(tzinfo=UTC)
        return value


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # the primary domain: one of the tenant's rows in tenant_domains (the first added still held),
    # or None while it holds none; new senders default to noreply@ it
    domain: Mapped[str | None] = mapped_column(String(255))
    conference_id_mode: Mapped[str] = mapped_column(String(10), default="dynamic")
    auto_email: Mapped[bool] = mapped_column(Boolean, default=True)
    pin_length: Mapped[int] = mapped_column(Integer, default=5)
    email_from_address: Mapped[str | None] = mapped_column(String(320))
    email_from_name: Mapped[str | None] = mapped_column(String(200))
    meeting_migration: Mapped[bool] = mapped_column(Boolean, default=True)
    id_quarantine_days: Mapped[int] = mapped_column(Integer, default=90)
    # guessing protection of the auto attendant (docs/dialin-security.md): per caller number and bridge,
    dialin_caller_max_failures: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    dialin_caller_window_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    dialin_caller_lockout_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # and per bridge: over this many wrong IDs in an hour, every call to the bridge is slowed down
    dialin_bridge_max_failures: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    dialin_bridge_delay_seconds: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    # the Jitsi Meet MUC domain (conference.meet.example.org) whose rooms get this tenant's IDs
    jitsi_muc_domain: Mapped[str | None] = mapped_column(String(255), unique=True, index=True)
    # the public conference mapper creates no room beyond this many (docs/jitsi.md); since when it
    # has refused one in the current episode (None: not full), so that each episode is audited once
    jitsi_max_rooms: Mapped[int] = mapped_column(Integer, default=10_000, server_default="10000")
    jitsi_rooms_full_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # days after a meeting's last occurrence ends before its own (dynamic) ID is released
    meeting_id_grace_days: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # the CalDAV calendar a migration also rewrites (docs/meetings.md): its URL ("{upn}" stands for the
    # organizer), the Basic user name, and the password sealed with the secret key (domain/sealed.py)
    caldav_url: Mapped[str | None] = mapped_column(String(2000))
    caldav_username: Mapped[str | None] = mapped_column(String(255))
    caldav_password: Mapped[str | None] = mapped_column(Text)
    # whether the operator set that URL: only then may it lead to this machine or a private address,
    # which the worker checks again before it connects (a DNS record may change after the URL is set)
    caldav_url_by_operator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TenantDomain(Base):
    """A domain a tenant holds: its users sign in with names ending in it (as in Microsoft 365)."""

    __tablename__ = "tenant_domains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    # one tenant per domain: the constraint, not a check in a service, keeps two tenants from sharing one
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Bridge(Base):
    __tablename__ = "bridges"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_bridges_tenant_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_length: Mapped[int] = mapped_column(Integer, default=7)
    default_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_numbers.id", use_alter=True, ondelete="SET NULL")
    )
    # wrong conference IDs on the bridge in the current hour, from all callers (the bridge limit)
    dialin_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dialin_window_started: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dialin_slowed_since: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the current episode
    # live + quarantined IDs on this bridge, kept in step by the allocator; sizes the candidate batch
    ids_in_use: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ServiceNumber(Base):
    __tablename__ = "service_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    bridge_id: Mapped[int] = mapped_column(ForeignKey("bridges.id", ondelete="CASCADE"), index=True)
    # a dialed number must lead to exactly one bridge, so numbers are unique across tenants
    e164: Mapped[str] = mapped_column(String(20), unique=True)
    toll_free: Mapped[bool] = mapped_column(Boolean, default=False)
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    primary_language: Mapped[str] = mapped_column(String(20), default="en-US")
    secondary_languages: Mapped[list[str]] = mapped_column(JSON, default=list)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # a tenant's users in sign-in name order: the first page and keyset paging read it in order
        Index("ix_users_tenant_upn", "tenant_id", "upn"),
        # conference ID search among third-party users (a prefix is a range)
        Index("ix_users_acp_conference_id", "acp_conference_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    bridge_id: Mapped[int] = mapped_column(ForeignKey("bridges.id"), index=True)
    upn: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    country: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(20), default="builtin")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    toll_number_id: Mapped[int | None] = mapped_column(ForeignKey("service_numbers.id", ondelete="SET NULL"))
    toll_free_number_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_numbers.id", ondelete="SET NULL")
    )
    toll_free_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    # third-party provider (ACP) settings; the ID is typed by an admin and never routed by dialconf
    acp_conference_id: Mapped[str | None] = mapped_column(String(20))
    acp_provider_name: Mapped[str | None] = mapped_column(String(200))
    acp_domain: Mapped[str | None] = mapped_column(String(255))
    acp_toll_number: Mapped[str | None] = mapped_column(String(20))
    acp_toll_free_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    acp_participant_passcode: Mapped[str | None] = mapped_column(String(20))
    acp_url: Mapped[str | None] = mapped_column(String(500))
    # leader PIN: keyed hash only, and the failed-attempt counters of the lockout policy
    pin_hash: Mapped[str | None] = mapped_column(String(64))
    # digits of the stored PIN: its lockout limits follow its own length, not today's tenant setting
    pin_length: Mapped[int | None] = mapped_column(Integer)
    pin_set_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pin_failures_in_window: Mapped[int] = mapped_column(Integer, default=0)
    pin_window_started: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pin_total_failures: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pin_locked_for_good: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConferenceIdRow(Base):
    """Every generated or chosen ID on a bridge, live or quarantined.

    One row per (bridge, digits) whatever its state: the unique constraint is what keeps two
    processes from handing out the same ID, and a quarantined row keeps it from coming back
    before its time.
    """

    __tablename__ = "conference_ids"
    __table_args__ = (
        UniqueConstraint("bridge_id", "digits", name="uq_conference_ids_bridge_digits"),
        Index("ix_conference_ids_owner_state", "owner_user_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bridge_id: Mapped[int] = mapped_column(ForeignKey("bridges.id", ondelete="CASCADE"))
    digits: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(12), default="live")  # live | quarantined
    kind: Mapped[str] = mapped_column(String(10), default="static")  # static | meeting
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    quarantine_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Meeting(Base):
    """A meeting scheduled through dialconf, and the conference ID its invitation carries.

    Dynamic mode: `conference_id_row_id` points at the meeting's own conference_ids row (kind
    "meeting", owned by the organizer) while that ID is live; releasing the ID (cancel, expiry)
    clears the pointer, so a live row leads to at most one meeting (the unique constraint) and a
    quarantined or reused row to none. Static mode: no row of its own; `conference_id` holds the
    organizer's static ID that the invitation carries.
    """

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_tenant_organizer", "tenant_id", "organizer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # the iCalendar UID: the same in every invitation, update and cancellation of the meeting
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str] = mapped_column(String(300))
    # the first occurrence, in UTC; `timezone` is the IANA zone it was scheduled in
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    rrule: Mapped[str | None] = mapped_column(String(500))
    # end of the last occurrence; None for a recurrence without COUNT or UNTIL, which never ends
    last_ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    conference_id: Mapped[str] = mapped_column(String(10))
    # the dial-in block the last invitation carried: a migration re-sends only when it would change
    dialin_block: Mapped[str] = mapped_column(Text, default="")
    conference_id_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("conference_ids.id", ondelete="SET NULL"), unique=True
    )
    status: Mapped[str] = mapped_column(String(10), default="scheduled")  # scheduled | cancelled
    id_released_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MeetingMigration(Base):
    """A job that rewrites the dial-in block of an organizer's upcoming meetings and re-sends them (DESIGN §4)."""

    __tablename__ = "meeting_migrations"
    __table_args__ = (Index("ix_meeting_migrations_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending | in_progress | succeeded | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    meetings_updated: Mapped[int] = mapped_column(Integer, default=0)
    last_message: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AdminAccount(Base):
    __tablename__ = "admin_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_target", "tenant_id", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(320))
    before: Mapped[dict[str, object] | None] = mapped_column(JSON)
    after: Mapped[dict[str, object] | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(Text)


class OutboxMail(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_upn: Mapped[str | None] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(30))
    to_addr: Mapped[str] = mapped_column(String(320))
    from_addr: Mapped[str] = mapped_column(String(320))
    from_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    carries_pin: Mapped[bool] = mapped_column(Boolean, default=False)
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DialinFailure(Base):
    """Wrong conference IDs entered per caller number and bridge, for the caller lockout."""

    __tablename__ = "dialin_failures"
    __table_args__ = (UniqueConstraint("bridge_id", "caller", name="uq_dialin_failures_bridge_caller"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bridge_id: Mapped[int] = mapped_column(ForeignKey("bridges.id", ondelete="CASCADE"))
    caller: Mapped[str] = mapped_column(String(32))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class JitsiRoom(Base):
    """A Jitsi Meet room with a conference ID of its own (kind 'jitsi' in conference_ids)."""

    __tablename__ = "jitsi_rooms"
    __table_args__ = (UniqueConstraint("tenant_id", "room", name="uq_jitsi_rooms_tenant_room"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # the room's JID as Jitsi folds it: lowercased, URL-encoded node, e.g. standup@conference.example.org
    room: Mapped[str] = mapped_column(String(512))
    conference_id_id: Mapped[int] = mapped_column(
        ForeignKey("conference_ids.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebSession(Base):
    """A signed-in browser: only the sha256 of the session id in its cookie is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("admin_accounts.id", ondelete="CASCADE"), index=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token of one admin account for the REST API: only its sha256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("admin_accounts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class SignInFailure(Base):
    """Failed sign-ins per account name or per client address, for the sign-in throttle."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_sign_in_failures_kind_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # account | client
    # the account name as typed (known or not), or the client address
    key: Mapped[str] = mapped_column(String(320))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


# Search structures that only one database has (or each its own way), made by migrations 0004 and 0007 beside the models' tables:
# SQLite's FTS5 trigram table over users (the table, its shadow tables and the triggers that keep it
# in step) and PostgreSQL's pg_trgm GIN indexes. The models do not describe them, so the comparison
# of models and migrations leaves them out by these names (services/search.py uses them).
SEARCH_TABLE = "users_search"
SEARCH_INDEXES = (
    "ix_users_upn_trgm",
    "ix_users_display_name_trgm",
    "ix_users_email_trgm",
    # migration 0007: (tenant_id, upn) with the names, as index columns (SQLite) or INCLUDE (PostgreSQL)
    "ix_users_tenant_names",
)


def is_search_structure(name: str | None) -> bool:
    """Whether a table or index is one of the database-specific search structures above."""
    return name is not None and (
        name == SEARCH_TABLE or name.startswith(SEARCH_TABLE + "_") or name in SEARCH_INDEXES
    )
