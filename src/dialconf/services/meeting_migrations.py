"""Meeting migration (DESIGN §4): rewrite the dial-in block of an organizer's upcoming meetings and re-send them.

A change that alters what callers dial queues a job in its own transaction when the tenant's
`meeting_migration` is on and the organizer has upcoming meetings: a conference ID reset or set, a
change of the organizer's default numbers (or of the bridge default they fall back on), disabling,
re-enabling, and a move to or from a third-party provider; `dialconf meeting migrate UPN` queues
one by hand and runs it at once; `dialconf meeting run-migrations` runs the due ones. A job takes
each upcoming scheduled meeting of the organizer, builds the dial-in block as it should read now,
and only where it differs from the block the last invitation carried stores the new one, raises
SEQUENCE by one and re-sends the invitation (same UID) to every attendee: running a job twice
changes nothing the second time. States: pending -> in_progress -> succeeded | failed; a failed
job is tried again after a backoff, and an in_progress one whose worker died when its lease runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import overload

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import OperationalError

from dialconf.calendars import ics
from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import Conflict, DatabaseUnavailable, DialconfError, InvalidInput
from dialconf.services import calendar_migration, conference_ids
from dialconf.services.bulk import insert_rows
from dialconf.services.common import audit, get_user, require
from dialconf.services.meetings import dial_in, release_meeting_id, send_invitation
from dialconf.services.views import View
from dialconf.store.models import Bridge, ConferenceIdRow, Meeting, MeetingMigration, Tenant, User
from dialconf.store.uow import UnitOfWork

STATES = ("pending", "in_progress", "succeeded", "failed")
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=6)
# how long a worker holds a job it has taken before another may take it (the worker died meanwhile)
LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class MigrationView(View):
    id: int
    upn: str
    reason: str
    state: str
    attempts: int
    meetings_updated: int
    last_message: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None  # when a pending or failed job is tried (again); None once it succeeded


class MigrationFailed(Conflict):
    """A migration run by hand failed: the job stays queued and is tried again after its backoff."""

    def __init__(self, view: MigrationView) -> None:
        super().__init__(
            f"migration job {view.id} of {view.upn} failed: {view.last_message}; it will be tried again"
        )


def queue_migration(uow: UnitOfWork, tenant: Tenant, user: User, *, reason: str, force: bool = False) -> int | None:
    """Queue a job for `user`'s meetings in the caller's transaction, if the tenant wants it; returns its id.

    Only an organizer with upcoming meetings gets one (by hand, `force`, always). A job of the
    organizer still pending, or failed and waiting for its retry, is reused and made due now: it
    will read the state as it is when it runs.
    """
    if not force and not (tenant.meeting_migration and _with_upcoming(uow, [user.id])):
        return None
    now = uow.now()
    pending = uow.session.scalars(
        select(MeetingMigration)
        .where(MeetingMigration.organizer_id == user.id, MeetingMigration.state.in_(("pending", "failed")))
        .order_by(MeetingMigration.id.desc())
    ).first()
    if pending is not None:
        pending.next_attempt_at = min(pending.next_attempt_at, now)
        return pending.id
    job = MeetingMigration(
        tenant_id=tenant.id,
        organizer_id=user.id,
        reason=reason[:60],
        state="pending",
        attempts=0,
        meetings_updated=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(job)
    uow.session.flush()
    return job.id


def queue_migrations(uow: UnitOfWork, tenant: Tenant, user_ids: Sequence[int], *, reason: str) -> int:
    """queue_migration for a chunk of a bulk job: a few statements for all; returns how many jobs were added."""
    if not tenant.meeting_migration or not user_ids:
        return 0
    user_ids = _with_upcoming(uow, user_ids)
    if not user_ids:
        return 0
    now = uow.now()
    waiting = (MeetingMigration.organizer_id.in_(user_ids), MeetingMigration.state.in_(("pending", "failed")))
    pending = set(uow.session.scalars(select(MeetingMigration.organizer_id).where(*waiting)))
    if pending:
        uow.session.execute(
            update(MeetingMigration).where(*waiting, MeetingMigration.next_attempt_at > now).values(next_attempt_at=now),
            execution_options={"synchronize_session": False},
        )
    rows = [
        {
            "tenant_id": tenant.id,
            "organizer_id": user_id,
            "reason": reason[:60],
            "state": "pending",
            "attempts": 0,
            "meetings_updated": 0,
            "last_message": None,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for user_id in dict.fromkeys(user_ids)
        if user_id not in pending
    ]
    insert_rows(uow, MeetingMigration, rows)
    return len(rows)


def queue_bridge_default_migrations(uow: UnitOfWork, tenant: Tenant, bridge: Bridge, *, reason: str) -> int:
    """Queue jobs for the organizers whose invitations carry `bridge`'s default toll number (none of their own)."""
    if not tenant.meeting_migration:
        return 0
    users = list(
        uow.session.scalars(
            select(User.id).where(
                User.bridge_id == bridge.id,
                User.enabled,
                User.provider == "builtin",
                User.toll_number_id.is_(None),
            )
        )
    )
    return queue_migrations(uow, tenant, users, reason=reason)


def _with_upcoming(uow: UnitOfWork, user_ids: Sequence[int]) -> list[int]:
    """Those of `user_ids` that organize at least one upcoming scheduled meeting, in the order given."""
    found: set[int] = set()
    wanted = list(dict.fromkeys(user_ids))
    for start in range(0, len(wanted), 900):
        found.update(
            uow.session.scalars(
                select(Meeting.organizer_id)
                .where(
                    Meeting.organizer_id.in_(wanted[start : start + 900]),
                    Meeting.status == "scheduled",
                    or_(Meeting.last_ends_at.is_(None), Meeting.last_ends_at > uow.now()),
                )
                .distinct()
            )
        )
    return [user_id for user_id in wanted if user_id in found]


def release_upcoming_meeting_ids(uow: UnitOfWork, tenant: Tenant, user: User) -> int:
    """Quarantine the own IDs of `user`'s upcoming meetings (disabled, or moved to a third-party provider).

    In the caller's transaction: callers are refused right after its commit. Returns how many were released.
    """
    released = 0
    for meeting in _upcoming(uow, user):
        if meeting.conference_id_row_id is not None:
            release_meeting_id(uow, meeting, tenant)
            released += 1
    return released


def renew_meeting_ids(uow: UnitOfWork, tenant: Tenant, user: User, *, keep_own: bool = False) -> int:
    """Dynamic reset: give each upcoming meeting of `user` a new own ID; the old ones are quarantined now.

    In the caller's transaction; returns how many meetings were renewed. Their invitations are
    re-sent by the migration job the caller queues. With `keep_own`, only the meetings without an ID
    of their own get one: those scheduled in static mode, before the tenant switched to dynamic.
    """
    upcoming = _upcoming(uow, user)
    if keep_own:
        upcoming = [meeting for meeting in upcoming if meeting.conference_id_row_id is None]
    if not upcoming:
        return 0
    bridge = uow.session.get(Bridge, user.bridge_id)
    assert bridge is not None
    for meeting in upcoming:
        old = uow.session.get(ConferenceIdRow, meeting.conference_id_row_id) if meeting.conference_id_row_id else None
        meeting.conference_id_row_id = None
        uow.session.flush()
        if old is not None and old.state == "live":
            conference_ids.release(uow, old, quarantine_days=tenant.id_quarantine_days)
        digits = conference_ids.allocate(uow, bridge, owner_user_id=user.id, kind="meeting").digits
        meeting.conference_id_row_id = uow.session.scalar(
            select(ConferenceIdRow.id).where(ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits == digits)
        )
        meeting.conference_id = digits
        meeting.updated_at = uow.now()
    return len(upcoming)


def _upcoming(uow: UnitOfWork, user: User) -> list[Meeting]:
    return list(
        uow.session.scalars(
            select(Meeting)
            .where(
                Meeting.organizer_id == user.id,
                Meeting.status == "scheduled",
                or_(Meeting.last_ends_at.is_(None), Meeting.last_ends_at > uow.now()),
            )
            .order_by(Meeting.id)
        )
    )


def migrate_organizer(uow: UnitOfWork, *, upn: str, actor: Actor) -> MigrationView:
    """Queue a migration of `upn`'s upcoming meetings by hand and run it at once."""
    with uow:
        user = get_user(uow, upn, actor, Permission.MANAGE_USERS)
        tenant = uow.session.get(Tenant, user.tenant_id)
        assert tenant is not None
        job_id = queue_migration(uow, tenant, user, reason="by hand", force=True)
        assert job_id is not None
        audit(uow, actor, "meeting.migrate", user.upn, tenant_id=tenant.id, detail=f"migration job {job_id}")
        uow.commit()
    return run_job(uow, job_id=job_id, actor=actor)


def migrate_now(uow: UnitOfWork, *, upn: str, actor: Actor) -> MigrationView:
    """`dialconf meeting migrate UPN`: migrate_organizer, refused with MigrationFailed when the job failed."""
    view = migrate_organizer(uow, upn=upn, actor=actor)
    if view.state == "failed":
        raise MigrationFailed(view)
    return view


def run_due_jobs(uow: UnitOfWork, *, actor: Actor, limit: int = 100) -> list[MigrationView]:
    """Run the jobs that are due (pending; failed and past their backoff; taken by a worker that died), oldest first."""
    require(actor, Permission.RUN_SERVICES)
    with uow.read():
        due = list(
            uow.session.execute(
                select(MeetingMigration.id, MeetingMigration.attempts)
                .where(
                    # an in_progress job is due again when its lease ran out: its worker died
                    MeetingMigration.state != "succeeded",
                    MeetingMigration.next_attempt_at <= uow.now(),
                )
                .order_by(MeetingMigration.next_attempt_at, MeetingMigration.id)
                .limit(limit)
            )
        )
    ran = []
    for job_id, attempts in due:
        try:
            view = run_job(uow, job_id=job_id, actor=actor, seen_attempts=attempts)
            if view is not None:
                ran.append(view)
        except (OperationalError, DatabaseUnavailable):
            raise  # the database, not the job: the caller waits and tries again
        except Exception as exc:  # a bug met by one organizer's job must not hold up everyone else's
            ran.append(_fail(uow, job_id, f"unexpected error ({type(exc).__name__}); the job will be retried"))
    return ran


@overload
def run_job(uow: UnitOfWork, *, job_id: int, actor: Actor) -> MigrationView: ...
@overload
def run_job(uow: UnitOfWork, *, job_id: int, actor: Actor, seen_attempts: int) -> MigrationView | None: ...
def run_job(uow: UnitOfWork, *, job_id: int, actor: Actor, seen_attempts: int | None = None) -> MigrationView | None:
    """Run one job: succeeded with how many meetings were updated, or failed with why.

    Three steps, so that no database write lock is held while a calendar server is talked to:
    (1) in one transaction, the job is taken (in_progress, with a lease of LEASE) and dialconf's
    own meetings are rewritten and their invitations queued; (2) with no transaction open for
    writing, the stale events of the tenant's CalDAV calendar are rewritten; (3) the outcome is
    recorded. Each step can be run again without harm, so a job whose worker died in step 2 is
    taken again once its lease has run out, and a job that failed in step 2 re-sends nothing.

    With `seen_attempts` (how many tries the job had when it was found due), a job that another
    worker tried meanwhile is left alone (None): its backoff runs from that try.
    """
    tried = False
    try:
        with uow:
            job = uow.session.get(MeetingMigration, job_id, with_for_update=True)
            if job is None:
                raise InvalidInput(f"migration job {job_id} does not exist")
            if seen_attempts is not None and job.attempts != seen_attempts:
                return None
            user = uow.session.get(User, job.organizer_id)
            tenant = uow.session.get(Tenant, job.tenant_id)
            assert user is not None and tenant is not None
            now = uow.now()
            if job.state == "succeeded" or (job.state == "in_progress" and _as_utc(job.next_attempt_at) > now):
                return _view(job, user.upn)  # done, or another worker holds it
            own = _migrate(uow, tenant, user)
            tenant_id, user_id, upn = tenant.id, user.id, user.upn
            job.state = "in_progress"
            job.attempts += 1
            job.next_attempt_at = now + LEASE
            job.updated_at = now
            uow.commit()
            tried = True
        with uow.read():
            tenant = uow.session.get(Tenant, tenant_id)
            user = uow.session.get(User, user_id)
            assert user is not None and tenant is not None
            events = calendar_migration.migrate_calendar(uow, tenant, user)
        with uow:
            job = uow.session.get(MeetingMigration, job_id, with_for_update=True)
            assert job is not None
            updated = own + events
            job.state = "succeeded"
            job.meetings_updated = updated
            job.last_message = f"{updated} upcoming meeting(s) updated and re-sent"
            job.updated_at = uow.now()
            if updated:
                audit(
                    uow,
                    actor,
                    "meeting.migrated",
                    upn,
                    tenant_id=tenant_id,
                    detail=f"migration job {job.id}: {updated} meeting(s) re-sent",
                )
            uow.commit()
            return _view(job, upn)
    except DialconfError as exc:
        return _fail(uow, job_id, exc.message, count_try=not tried)


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive UTC datetimes
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _fail(uow: UnitOfWork, job_id: int, message: str, *, count_try: bool = True) -> MigrationView:
    with uow:
        job = uow.session.get(MeetingMigration, job_id)
        if job is None:
            raise InvalidInput(f"migration job {job_id} does not exist")
        user = uow.session.get(User, job.organizer_id)
        assert user is not None
        now = uow.now()
        if count_try:
            job.attempts += 1
        job.state = "failed"
        job.last_message = message
        job.next_attempt_at = now + min(FIRST_RETRY * 2 ** max(job.attempts - 1, 0), MAX_RETRY)
        job.updated_at = now
        uow.commit()
        return _view(job, user.upn)


def _migrate(uow: UnitOfWork, tenant: Tenant, user: User) -> int:
    """Bring every upcoming invitation of `user` up to date; returns how many were re-sent.

    The events of the tenant's CalDAV calendar are `run_job`'s second step, outside this transaction.
    """
    now = uow.now()
    builtin = user.enabled and user.provider == "builtin"
    if builtin and tenant.conference_id_mode == "dynamic":
        # meetings scheduled in static mode lost the organizer's ID when the tenant switched to
        # dynamic (the switch gives them their own; a switch made before it did gets it here)
        renew_meeting_ids(uow, tenant, user, keep_own=True)
    upcoming = _upcoming(uow, user)
    static = (
        conference_ids.live_static_row(uow, user.id)
        if builtin and tenant.conference_id_mode == "static"
        else None
    )
    updated = 0
    dials: dict[str, ics.DialIn] = {}  # the same numbers for every meeting: looked up once per ID
    for meeting in upcoming:
        if not builtin:
            # disabled (no dial-in any more) or third-party (the provider's ID): the block says so, and
            # meetings.conference_id keeps the digits dialconf last gave the meeting
            digits = meeting.conference_id
        elif meeting.conference_id_row_id is not None:
            digits = meeting.conference_id  # the meeting's own ID: a dynamic reset renews it, not this job
        elif static is not None:
            digits = static.digits
        else:
            raise InvalidInput(
                f"user '{user.upn}' has no conference ID for meeting {meeting.id}; "
                "its invitation cannot be rewritten yet"
            )
        dial = dials.get(digits)
        if dial is None:
            dial = dials[digits] = dial_in(uow, tenant, user, digits)
        block = ics.dialin_block(dial)
        if block == meeting.dialin_block and digits == meeting.conference_id:
            continue
        meeting.conference_id = digits
        meeting.dialin_block = block
        meeting.sequence += 1
        meeting.updated_at = now
        send_invitation(uow, tenant, user, meeting, method="REQUEST", dial=dial)
        updated += 1
    return updated


def migration_status(
    uow: UnitOfWork, *, actor: Actor, upn: str | None = None, state: str | None = None, limit: int = 500
) -> list[MigrationView]:
    """Jobs in the actor's reach, newest first (of one organizer, in one state)."""
    if state is not None and state not in STATES:
        raise InvalidInput(f"state must be one of {', '.join(STATES)}, not '{state}'")
    with uow.read():
        query: Select[MeetingMigration, str] = select(MeetingMigration, User.upn).join(
            User, User.id == MeetingMigration.organizer_id
        )
        if upn is not None:
            query = query.where(MeetingMigration.organizer_id == get_user(uow, upn, actor, Permission.VIEW).id)
        if actor.role is not Role.OPERATOR:
            require(actor, Permission.VIEW)
            query = query.where(MeetingMigration.tenant_id == actor.tenant_id)
        if state is not None:
            query = query.where(MeetingMigration.state == state)
        rows = uow.session.execute(query.order_by(MeetingMigration.id.desc()).limit(limit))
        return [_view(job, job_upn) for job, job_upn in rows]


def migration_summary(uow: UnitOfWork, *, actor: Actor, upn: str | None = None) -> dict[str, int]:
    """How many jobs in the actor's reach (of one organizer) are in each state."""
    with uow.read():
        query = select(MeetingMigration.state, func.count()).group_by(MeetingMigration.state)
        if upn is not None:
            query = query.where(MeetingMigration.organizer_id == get_user(uow, upn, actor, Permission.VIEW).id)
        if actor.role is not Role.OPERATOR:
            require(actor, Permission.VIEW)
            query = query.where(MeetingMigration.tenant_id == actor.tenant_id)
        counts = {state: int(count) for state, count in uow.session.execute(query)}
        return {state: counts.get(state, 0) for state in STATES}


def _view(job: MeetingMigration, upn: str) -> MigrationView:
    return MigrationView(
        id=job.id,
        upn=upn,
        reason=job.reason,
        state=job.state,
        attempts=job.attempts,
        meetings_updated=job.meetings_updated,
        last_message=job.last_message,
        created_at=job.created_at,
        updated_at=job.updated_at,
        next_attempt_at=job.next_attempt_at if job.state in ("pending", "failed") else None,
    )
