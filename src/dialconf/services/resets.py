"""The seed flow: reset or set a conference ID, reset a PIN, send conference info (DESIGN §2, §3, §5)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select, update

from dialconf.domain import numbers
from dialconf.domain.ids import ConferenceId, parse_third_party_id
from dialconf.domain.pins import generate_pin
from dialconf.domain.roles import Actor, Permission
from dialconf.errors import InvalidConferenceId, InvalidInput, NotAllowedForProvider
from dialconf.mail.compose import MailKind
from dialconf.services import conference_ids
from dialconf.services.bulk import MailBuilder, insert_rows
from dialconf.services.common import audit, audit_values, get_tenant, get_user
from dialconf.services.directory import user_view
from dialconf.services.meeting_migrations import queue_migration, queue_migrations, renew_meeting_ids
from dialconf.services.outbox import mail_info, queue_mail, wants_email
from dialconf.services.tenants import validate_email
from dialconf.services.users import _release_static_id, _store_pin, filter_users
from dialconf.services.views import ActionResult, BulkPlan, BulkTarget, PinResetResult, ResetResult
from dialconf.store.models import AuditEvent, Bridge, OutboxMail, ServiceNumber, Tenant, User
from dialconf.store.uow import UnitOfWork

BULK_CHUNK = 2000  # users per transaction of a bulk job
Progress = Callable[[int, int], None]
T = TypeVar("T")


def _enabled_user(uow: UnitOfWork, upn: str, actor: Actor, permission: Permission) -> tuple[User, Tenant]:
    user = get_user(uow, upn, actor, permission)
    if not user.enabled:
        raise InvalidInput(f"user '{user.upn}' is disabled for audio conferencing; enable it first")
    tenant = uow.session.get(Tenant, user.tenant_id)
    assert tenant is not None
    return user, tenant


def reset_conference_id(
    uow: UnitOfWork, *, upn: str, actor: Actor, send_email: bool | None = None, to: str | None = None
) -> ResetResult:
    """Give a builtin user a new random conference ID; the old one stops working at once."""
    to = validate_email(to, "recipient address") if to else None
    with uow:
        user, tenant = _enabled_user(uow, upn, actor, Permission.RESET_SECRETS)
        result = _reset_one(uow, tenant, user, actor, send_email=send_email, to=to, cache=None)
        uow.commit()
        return result


def _reset_one(
    uow: UnitOfWork,
    tenant: Tenant,
    user: User,
    actor: Actor,
    *,
    send_email: bool | None,
    to: str | None,
    cache: dict[int, ServiceNumber] | None,
) -> ResetResult:
    if user.provider != "builtin":
        raise NotAllowedForProvider(
            f"user '{user.upn}' uses a third-party audio conferencing provider, so dialconf does not generate "
            f"its conference ID; enter it by hand: dialconf user set-conference-id {user.upn} DIGITS"
        )
    if tenant.conference_id_mode == "dynamic":
        # each upcoming meeting gets a new ID now (the old ones stop working at once), and a
        # migration job re-sends their invitations
        renewed = renew_meeting_ids(uow, tenant, user)
        if renewed:
            queue_migration(uow, tenant, user, reason="conference ID reset")
        message = "dynamic conference IDs: every upcoming meeting gets a new ID; " + (
            "nothing to renew (the user has no upcoming meetings)" if renewed == 0 else f"{renewed} renewed"
        )
        audit(
            uow,
            actor,
            "user.reset_conference_id",
            user.upn,
            tenant_id=tenant.id,
            detail=f"dynamic mode: {renewed} upcoming meetings renewed",
        )
        return ResetResult(
            upn=user.upn,
            conference_id=None,
            previous_conference_id=None,
            email_queued=False,
            mode="dynamic",
            meetings_renewed=renewed,
            message=message,
        )
    bridge = uow.session.get(Bridge, user.bridge_id)
    assert bridge is not None
    previous = _release_static_id(uow, tenant, user)
    new = conference_ids.allocate(uow, bridge, owner_user_id=user.id).digits
    user.updated_at = uow.now()
    # in this transaction: the reset never happens without the job that rewrites the user's invitations
    queue_migration(uow, tenant, user, reason="conference ID reset")
    queued = wants_email(tenant, send_email)
    if queued:
        info = mail_info(
            uow, tenant, user, conference_id=new, previous_conference_id=previous, numbers_cache=cache
        )
        queue_mail(uow, tenant, user, MailKind.CONFERENCE_ID_CHANGED, info, to=to)
    audit(
        uow,
        actor,
        "user.reset_conference_id",
        user.upn,
        tenant_id=tenant.id,
        before={"conference_id": previous},
        after={"conference_id": new, "email_queued": queued},
    )
    return ResetResult(
        upn=user.upn,
        conference_id=new,
        previous_conference_id=previous,
        email_queued=queued,
        mode="static",
        meetings_renewed=0,
        message="conference ID reset",
    )


def set_conference_id(
    uow: UnitOfWork,
    *,
    upn: str,
    digits: str,
    actor: Actor,
    send_email: bool | None = None,
    allow_weak: bool = False,
    to: str | None = None,
) -> ResetResult:
    """Set a chosen ID (static mode; a trivially guessable one only with `allow_weak`), or type in a
    third-party provider's ID by hand; the email goes to `to` instead of the user when given."""
    to = validate_email(to, "recipient address") if to else None
    with uow:
        user, tenant = _enabled_user(uow, upn, actor, Permission.MANAGE_USERS)
        if user.provider == "third-party":
            previous = user.acp_conference_id
            new = parse_third_party_id(digits)
            user.acp_conference_id = new
            queue_migration(uow, tenant, user, reason="conference ID set")
        else:
            if tenant.conference_id_mode == "dynamic":
                raise InvalidConferenceId(
                    f"tenant '{tenant.name}' uses dynamic conference IDs (one per meeting), so a user has no "
                    "personal ID to set; ask the operator to switch the tenant to static IDs"
                )
            bridge = uow.session.get(Bridge, user.bridge_id)
            assert bridge is not None
            new = ConferenceId.parse(digits, length=bridge.id_length).digits
            current = conference_ids.live_static_row(uow, user.id)
            if current is not None and current.digits == new:
                raise InvalidInput(f"{new} is already the conference ID of '{user.upn}'")
            previous = _release_static_id(uow, tenant, user)
            conference_ids.claim(uow, bridge, new, owner_user_id=user.id, allow_weak=allow_weak)
            queue_migration(uow, tenant, user, reason="conference ID set")
        user.updated_at = uow.now()
        queued = wants_email(tenant, send_email)
        if queued:
            info = mail_info(uow, tenant, user, conference_id=new, previous_conference_id=previous)
            queue_mail(uow, tenant, user, MailKind.CONFERENCE_ID_CHANGED, info, to=to)
        audit(
            uow,
            actor,
            "user.set_conference_id",
            user.upn,
            tenant_id=tenant.id,
            before={"conference_id": previous},
            after={"conference_id": new, "email_queued": queued},
        )
        uow.commit()
        return ResetResult(
            upn=user.upn,
            conference_id=new,
            previous_conference_id=previous,
            email_queued=queued,
            mode=tenant.conference_id_mode if user.provider == "builtin" else "third-party",
            meetings_renewed=0,
            message="conference ID set",
        )


def reset_pin(
    uow: UnitOfWork, *, upn: str, actor: Actor, send_email: bool | None = None, to: str | None = None
) -> PinResetResult:
    """Generate a new leader PIN; it is shown once in the result and mailed when email is on."""
    to = validate_email(to, "recipient address") if to else None
    with uow:
        user, tenant = _enabled_user(uow, upn, actor, Permission.RESET_SECRETS)
        if user.provider != "builtin":
            raise NotAllowedForProvider(
                f"user '{user.upn}' uses a third-party audio conferencing provider; its PIN is managed there"
            )
        pin = generate_pin(uow.rng, tenant.pin_length, phone_digits=numbers.digits_of(user.phone or ""))
        was_locked = user.pin_locked_for_good or user.pin_locked_until is not None
        _store_pin(uow, user, pin)
        user.updated_at = uow.now()
        queued = wants_email(tenant, send_email)
        if queued:
            row = conference_ids.live_static_row(uow, user.id)
            info = mail_info(uow, tenant, user, conference_id=row.digits if row else None, pin=pin)
            queue_mail(uow, tenant, user, MailKind.PIN_RESET, info, to=to)
        audit(
            uow,
            actor,
            "user.reset_pin",
            user.upn,
            tenant_id=tenant.id,
            after={"pin": "reset", "unlocked": was_locked, "email_queued": queued},
        )
        uow.commit()
        return PinResetResult(upn=user.upn, pin=pin, email_queued=queued)


def send_info(uow: UnitOfWork, *, upn: str, actor: Actor, to: str | None = None) -> ActionResult:
    """Email the conference ID and dial-in numbers; never the PIN. Sent whatever auto_email says."""
    to = validate_email(to, "recipient address") if to else None
    with uow:
        user, tenant = _enabled_user(uow, upn, actor, Permission.SEND_INFO)
        view = user_view(uow, user)
        info = mail_info(uow, tenant, user, conference_id=view.conference_id)
        mail = queue_mail(uow, tenant, user, MailKind.CONFERENCE_INFO, info, to=to)
        audit(uow, actor, "user.send_info", user.upn, tenant_id=tenant.id, after={"to": mail.to_addr})
        uow.commit()
        return ActionResult(
            upn=user.upn, email_queued=True, message=f"conference info queued for {mail.to_addr}"
        )


def bulk_reset_conference_ids(
    uow: UnitOfWork,
    *,
    tenant: str,
    actor: Actor,
    search: str | None = None,
    send_email: bool | None = None,
    progress: Progress | None = None,
    plan: BulkPlan | None = None,
) -> list[ResetResult]:
    """Reset the IDs of every enabled builtin user of a tenant (matching `search`), in committed chunks.

    Each chunk is one transaction, so an interruption leaves every user either fully reset (new ID,
    email, audit) or untouched; running it again resets the rest (and those already done, again).
    With a `plan` (plan_bulk_reset, as confirmed), only the users in it are reset.
    """
    tenant_id, ids = bulk_targets(uow, tenant=tenant, actor=actor, search=search, plan=plan)

    def reset_chunk(t: Tenant, chunk: list[int]) -> list[ResetResult]:
        if t.conference_id_mode == "static":
            # only the columns the chunk needs, as rows: loading ORM objects costs more than the rest
            rows = list(
                uow.session.execute(select(*_CHUNK_COLUMNS).where(User.id.in_(chunk)).order_by(User.id))
            )
            return _reset_static_chunk(uow, t, rows, actor, send_email=send_email)
        users = uow.session.scalars(select(User).where(User.id.in_(chunk)).order_by(User.id))
        return [_reset_one(uow, t, user, actor, send_email=send_email, to=None, cache=None) for user in users]

    return in_chunks(uow, tenant_id, ids, reset_chunk, progress)


def in_chunks(
    uow: UnitOfWork,
    tenant_id: int,
    ids: list[int],
    work: Callable[[Tenant, list[int]], list[T]],
    progress: Progress | None,
) -> list[T]:
    """Run `work` over `ids` in chunks of BULK_CHUNK, one committed transaction each, reporting progress."""
    results: list[T] = []
    total = len(ids)
    if progress:
        progress(0, total)
    for start in range(0, total, BULK_CHUNK):
        with uow:
            tenant = uow.session.get(Tenant, tenant_id)
            assert tenant is not None
            results.extend(work(tenant, ids[start : start + BULK_CHUNK]))
            uow.commit()
        if progress:
            progress(min(start + BULK_CHUNK, total), total)
    return results


def bulk_targets(
    uow: UnitOfWork, *, tenant: str, actor: Actor, search: str | None, plan: BulkPlan | None = None
) -> tuple[int, list[int]]:
    """The tenant's id and, in id order, its enabled builtin users matching `search`, for a bulk job.

    With a `plan` (what was confirmed), only the users in it: one enabled since is not reset unasked.
    """
    with uow.read():
        t = get_tenant(uow, tenant, actor, Permission.RESET_SECRETS)
        query = select(User.id).where(User.tenant_id == t.id, User.enabled, User.provider == "builtin")
        ids = list(uow.session.scalars(filter_users(query, search=search, provider=None).order_by(User.id)))
        if plan is not None:
            confirmed = set(plan.user_ids)
            ids = [i for i in ids if i in confirmed]
        return t.id, ids


def plan_bulk_reset(
    uow: UnitOfWork,
    *,
    tenant: str,
    actor: Actor,
    action: str,
    search: str | None = None,
    send_email: bool | None = None,
) -> BulkPlan:
    """Who a bulk reset of `action` (conference_id or pin) would change, and whether they would be emailed.

    Writes nothing: it is the dry run, and the count a confirmation asks about. Passed back to the
    bulk reset, it limits the reset to these users.
    """
    if action not in ("conference_id", "pin"):
        raise InvalidInput(f"a bulk reset is of conference_id or pin, not '{action}'")
    with uow.read():
        t = get_tenant(uow, tenant, actor, Permission.RESET_SECRETS)
        query = select(User.id, User.upn, User.email).where(
            User.tenant_id == t.id, User.enabled, User.provider == "builtin"
        )
        rows = list(uow.session.execute(filter_users(query, search=search, provider=None).order_by(User.id)))
        current: dict[int, str] = {}
        if action == "conference_id" and t.conference_id_mode == "static":
            for start in range(0, len(rows), BULK_CHUNK):
                current.update(
                    conference_ids.live_static_ids(uow, [r.id for r in rows[start : start + BULK_CHUNK]])
                )
        return BulkPlan(
            tenant=t.name,
            action=action,
            mode=t.conference_id_mode,
            # a dynamic-mode reset renews meeting IDs and mails no one (see _reset_one)
            email=wants_email(t, send_email)
            and not (action == "conference_id" and t.conference_id_mode == "dynamic"),
            users=[BulkTarget(upn=r.upn, email=r.email, conference_id=current.get(r.id)) for r in rows],
            user_ids=tuple(r.id for r in rows),
        )


# what _reset_static_chunk reads of a user: the ID's bridge, and what outbox.mail_info and mail_values read
_CHUNK_COLUMNS = (
    User.id,
    User.upn,
    User.email,
    User.display_name,
    User.bridge_id,
    User.provider,
    User.toll_number_id,
    User.toll_free_number_id,
    User.toll_free_allowed,
    User.acp_provider_name,
    User.acp_toll_number,
    User.acp_toll_free_numbers,
    User.acp_participant_passcode,
    User.acp_url,
)


def _reset_static_chunk(
    uow: UnitOfWork, tenant: Tenant, users: Sequence[Any], actor: Actor, *, send_email: bool | None
) -> list[ResetResult]:
    """_reset_one for a chunk of builtin users in static mode, with a few statements for the whole chunk."""
    session, now = uow.session, uow.now()
    previous = conference_ids.release_static_ids(
        uow, [u.id for u in users], quarantine_days=tenant.id_quarantine_days
    )
    new: dict[int, str] = {}
    for bridge_id in sorted({u.bridge_id for u in users}):
        bridge = session.get(Bridge, bridge_id)
        assert bridge is not None
        owners = [u.id for u in users if u.bridge_id == bridge_id]
        new.update(conference_ids.allocate_many(uow, bridge, owners))
    # synchronize_session=False: the chunk's users are plain rows, not objects the session must update
    session.execute(
        update(User).where(User.id.in_([u.id for u in users])).values(updated_at=now),
        execution_options={"synchronize_session": False},
    )
    queued = wants_email(tenant, send_email)
    mailer = MailBuilder(uow, tenant, MailKind.CONFERENCE_ID_CHANGED)
    mails, audits, results = [], [], []
    for user in users:
        old = previous.get(user.id)
        if queued:
            mails.append(mailer.values(user, conference_id=new[user.id], previous_conference_id=old))
        audits.append(
            audit_values(
                uow,
                actor,
                "user.reset_conference_id",
                user.upn,
                tenant_id=tenant.id,
                before={"conference_id": old},
                after={"conference_id": new[user.id], "email_queued": queued},
            )
        )
        results.append(
            ResetResult(
                upn=user.upn,
                conference_id=new[user.id],
                previous_conference_id=old,
                email_queued=queued,
                mode="static",
                meetings_renewed=0,
                message="conference ID reset",
            )
        )
    insert_rows(uow, OutboxMail, mails)
    insert_rows(uow, AuditEvent, audits)
    queue_migrations(uow, tenant, [u.id for u in users], reason="conference ID reset")
    return results
