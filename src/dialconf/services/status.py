"""What `dialconf status` reports: the database in use, its schema, what it holds, the SMTP target and `up`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dialconf.config import Settings, SmtpSettings
from dialconf.domain.roles import Actor, Permission
from dialconf.services.common import require
from dialconf.services.views import View
from dialconf.store import migrate
from dialconf.store.db import shown_url
from dialconf.store.models import OutboxMail, Tenant, User
from dialconf.store.uplock import up_holder

EMBEDDED_CATCHER = "embedded mail catcher (dialconf up)"
# mail not delivered yet: waiting for its turn, or claimed by a worker right now
WAITING = ("queued", "sending")


@dataclass(frozen=True)
class StatusView(View):
    database: str  # the SQLite file, or the URL without its password
    exists: bool  # False: a SQLite file not created yet (the first command that needs it creates it)
    schema_version: str | None  # None: no schema yet
    schema_head: str
    schema_current: bool
    tenants: int | None  # counts are None while the schema is not current
    users: int | None
    queued_mail: int | None
    smtp: str
    up_running: bool  # tracked for SQLite only: `up` holds a lock file beside the database
    up_pid: int | None


def smtp_target(smtp: SmtpSettings) -> str:
    """Where mail goes: host:port (security), or the embedded catcher of `dialconf up` without DIALCONF_SMTP_HOST."""
    if not smtp.host:
        return EMBEDDED_CATCHER
    return f"{smtp.host}:{smtp.port} ({smtp.security})"


def installation_status(settings: Settings, *, actor: Actor, reader: Engine | None) -> StatusView:
    """Report on the installation; `reader` is a read-only engine, or None when the SQLite file does not exist.

    Only reads: it never creates the database nor upgrades its schema.
    """
    require(actor, Permission.RUN_SERVICES)
    path = settings.sqlite_path()
    database = str(path) if path is not None else shown_url(settings.database_url)
    revision = migrate.current_revision(reader) if reader is not None else None
    current = revision == migrate.HEAD_REVISION
    counts: tuple[int | None, int | None, int | None] = (0, 0, 0) if reader is None else (None, None, None)
    if reader is not None and current:
        with reader.connect() as conn:
            counts = (
                conn.scalar(select(func.count()).select_from(Tenant)) or 0,
                conn.scalar(select(func.count()).select_from(User)) or 0,
                conn.scalar(
                    select(func.count()).select_from(OutboxMail).where(OutboxMail.status.in_(WAITING))
                )
                or 0,
            )
    pid = up_holder(path) if path is not None else None
    return StatusView(
        database=database,
        exists=reader is not None,
        schema_version=revision,
        schema_head=migrate.HEAD_REVISION,
        schema_current=current,
        tenants=counts[0],
        users=counts[1],
        queued_mail=counts[2],
        smtp=smtp_target(settings.smtp),
        up_running=pid is not None,
        up_pid=pid or None,
    )
