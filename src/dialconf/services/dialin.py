"""What the auto attendant does with a call: dialed number + typed digits -> join a room, or reject (DESIGN §6).

A call that resolves is only read: one joined query in a read transaction, which on SQLite takes no
write lock, so a long import never makes a caller wait. Only what must be recorded (a wrong ID, a
leader PIN check) is written, afterwards, in its own short write transaction that locks the counter
row, so that parallel calls each count exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import BindParameter, Row, Select, String, and_, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from dialconf.domain import numbers
from dialconf.domain.ids import clean_digits
from dialconf.domain.pins import AttemptState, LockoutPolicy, verify_pin
from dialconf.domain.roles import Actor, Permission
from dialconf.errors import InvalidPhoneNumber
from dialconf.services.common import audit, require
from dialconf.services.views import LookupResult
from dialconf.store.models import (
    Bridge,
    ConferenceIdRow,
    DialinFailure,
    JitsiRoom,
    Meeting,
    ServiceNumber,
    Tenant,
    User,
)
from dialconf.store.uow import UnitOfWork

ANONYMOUS = "anonymous"
# what a caller hears for any ID that does not lead to a meeting: never existed, released, or held
# by a disabled or third-party organizer alike, so guessing callers learn nothing from the answer
NOT_VALID = "that conference ID is not valid"
CALLER_LOCKED = "too many wrong conference IDs from this caller; try again later"
PIN_LOCKED = "the leader PIN is locked after too many wrong attempts"
WRONG_PIN = "wrong leader PIN"
NO_PIN = "no leader PIN is set for this organizer"


@dataclass(frozen=True)
class CallerPolicy:
    """Wrong conference IDs allowed per caller number and bridge before the caller is locked out.

    Wrong IDs are forgotten only when the window passes, never because the caller got one right:
    otherwise "4 wrong, 1 known, repeat" would guess forever.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=30)

    @classmethod
    def of_tenant(cls, row: Row[Any]) -> CallerPolicy:
        return cls(
            max_failures=row.dialin_caller_max_failures,
            window=timedelta(minutes=row.dialin_caller_window_minutes),
            lockout=timedelta(minutes=row.dialin_caller_lockout_minutes),
        )


# the bridge limit counts wrong IDs from all callers over this window (docs/dialin-security.md)
BRIDGE_WINDOW = timedelta(hours=1)


def lookup(
    uow: UnitOfWork,
    *,
    number: str,
    digits: str,
    actor: Actor,
    caller: str | None = None,
    pin: str | None = None,
    policy: CallerPolicy | None = None,
) -> LookupResult:
    """Resolve a call. Wrong IDs count against the caller; the next lookup after a reset sees the new state."""
    # before anything is read or counted: an account that may not resolve calls must not lock anyone out
    require(actor, Permission.RESOLVE_CALLS)
    dialed = dialed_e164(uow, number)
    caller_key = _caller_key(caller)
    typed = clean_digits(digits)
    now = uow.now()
    # one Core statement (built once) on a pooled connection: no Session, no ORM, no transaction
    with uow.statement() as conn:
        call = conn.execute(
            _RESOLVE, {"dialed": dialed, "caller": caller_key, "typed": typed}
        ).one_or_none()
    if call is None or (actor.tenant_id is not None and call.tenant_id != actor.tenant_id):
        # a pbx account of one tenant resolves only its tenant's numbers, and learns nothing of others
        unknown = f"{dialed} is not a dial-in number of this service"
        return LookupResult(result="reject", reason=unknown, detail=unknown)
    # over the bridge limit every call is slowed down, right or wrong: a delay the PBX plays first
    slowed = call.bridge_slowed_since is not None and now - call.bridge_slowed_since < BRIDGE_WINDOW
    where: dict[str, Any] = {
        "tenant": call.tenant,
        "bridge": call.bridge,
        "language": call.language,
        "delay_seconds": call.dialin_bridge_delay_seconds if slowed else 0,
    }
    if call.caller_locked_until is not None and call.caller_locked_until > now:
        return LookupResult(
            result="reject",
            reason=CALLER_LOCKED,
            detail=CALLER_LOCKED,
            locked_until=call.caller_locked_until,
            **where,
        )
    why_not = _why_not_valid(call, typed)
    if why_not is not None:
        policy = policy or CallerPolicy.of_tenant(call)
        with uow:
            locked_until = _count_failure(uow, call.bridge_id, caller_key, policy, now)
            if _count_bridge_failure(uow, call, now, actor):
                where["delay_seconds"] = call.dialin_bridge_delay_seconds
            uow.commit()
        return LookupResult(
            result="reject", reason=NOT_VALID, detail=why_not, locked_until=locked_until, **where
        )
    if call.jitsi_room is not None:  # no organizer, so no leader PIN: everyone joins the Jitsi room alike
        return LookupResult(result="join", reason="participant", room=call.jitsi_room, **where)
    room = f"{call.tenant}-{typed}"
    if call.meeting_id is not None:
        where["meeting"] = str(call.meeting_id)
    if pin is None:
        return LookupResult(result="join", reason="participant", upn=call.upn, room=room, **where)
    with uow:
        verdict = _check_leader_pin(uow, call.user_id, pin, call.tenant_pin_length, now)
        uow.commit()
    if verdict:
        return LookupResult(result="reject", reason=verdict, detail=verdict, upn=call.upn, **where)
    return LookupResult(result="join", reason="leader", upn=call.upn, room=room, **where)


def number_language(uow: UnitOfWork, *, number: str, actor: Actor) -> str | None:
    """The language of a service number (what the attendant switches its prompts to), or None."""
    require(actor, Permission.RESOLVE_CALLS)
    try:
        dialed = dialed_e164(uow, number)
    except InvalidPhoneNumber:
        return None
    with uow.statement() as conn:
        row = conn.execute(_LANGUAGE, {"dialed": dialed}).one_or_none()
    if row is None or (actor.tenant_id is not None and row.tenant_id != actor.tenant_id):
        return None
    language: str | None = row.primary_language
    return language


def dialed_e164(uow: UnitOfWork, number: str) -> str:
    """The dialed number as E.164, from any form a PBX passes on.

    `+14255550100`, `14255550100`, `tel:+1-425-555-0100`, `sip:+14255550100@pbx` and a national form
    (`4255550100`, `020 7946 0000`) read in the country of a service number whose national digits match.
    """
    raw = (number or "").strip()
    for scheme in ("tel:", "sip:", "sips:"):
        if raw.lower().startswith(scheme):
            raw = raw[len(scheme) :].split("@", 1)[0].split(";", 1)[0]
    raw = _VISUAL.sub("", raw)
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if raw.startswith("+"):
        return _parse(raw)
    if raw.isdigit():
        candidates = [f"+{raw}"] if len(raw) > 10 or not raw.startswith("0") else []
        for candidate in candidates:
            try:
                e164 = _parse(candidate)
            except InvalidPhoneNumber:
                continue
            if _is_service_number(uow, e164):
                return e164
        national = _national_match(uow, raw)
        if national is not None:
            return national
        for candidate in candidates:
            try:
                return _parse(candidate)
            except InvalidPhoneNumber:
                continue
    return _parse(raw)


# a call path parses the same few service numbers (and a caller's number) again and again: parsing is
# pure and costs more than the lookup's query, so it is cached (errors are not cached, they re-raise)
_parse = lru_cache(maxsize=8192)(numbers.parse_e164)
_VISUAL = re.compile(r"[\s().\-/]")


def _is_service_number(uow: UnitOfWork, e164: str) -> bool:
    with uow.statement() as conn:
        return conn.execute(_NUMBER, {"dialed": e164}).first() is not None


def _number_statement() -> Select[int]:
    return select(ServiceNumber.id).where(ServiceNumber.e164 == bindparam("dialed", type_=String()))


def _language_statement() -> Select[str, int]:
    return select(ServiceNumber.primary_language, ServiceNumber.tenant_id).where(
        ServiceNumber.e164 == bindparam("dialed", type_=String())
    )


def _national_match(uow: UnitOfWork, digits: str) -> str | None:
    """The service number that `digits`, read as a national number of its own country, is."""
    with uow.statement() as conn:
        countries = conn.scalars(select(ServiceNumber.country).distinct()).all()
    for country in sorted({c for c in countries if c} | {"US"}):
        try:
            e164 = _parse(digits, region=country)
        except InvalidPhoneNumber:
            continue
        if _is_service_number(uow, e164):
            return e164
    return None


def _resolve_statement() -> Select[*tuple[Any, ...]]:
    """One query: the dialed number's bridge and tenant, the caller's lockout, the typed ID and its owner.

    Built once with bound parameters (dialed, caller, typed): building a select costs more than running it.
    """
    dialed: BindParameter[str] = bindparam("dialed", type_=String())
    caller: BindParameter[str] = bindparam("caller", type_=String())
    typed: BindParameter[str] = bindparam("typed", type_=String())
    return (
        select(
            ServiceNumber.bridge_id,
            ServiceNumber.primary_language.label("language"),
            Bridge.name.label("bridge"),
            Bridge.id_length,
            Tenant.name.label("tenant"),
            Tenant.id.label("tenant_id"),
            Tenant.pin_length.label("tenant_pin_length"),
            Tenant.dialin_caller_max_failures,
            Tenant.dialin_caller_window_minutes,
            Tenant.dialin_caller_lockout_minutes,
            Tenant.dialin_bridge_max_failures,
            Tenant.dialin_bridge_delay_seconds,
            Bridge.dialin_slowed_since.label("bridge_slowed_since"),
            DialinFailure.locked_until.label("caller_locked_until"),
            ConferenceIdRow.id.label("id_row"),
            ConferenceIdRow.state.label("id_state"),
            ConferenceIdRow.owner_user_id,
            JitsiRoom.room.label("jitsi_room"),
            Meeting.id.label("meeting_id"),
            User.id.label("user_id"),
            User.upn,
            User.enabled,
            User.provider,
        )
        .select_from(ServiceNumber)
        .join(Bridge, Bridge.id == ServiceNumber.bridge_id)
        .join(Tenant, Tenant.id == ServiceNumber.tenant_id)
        .outerjoin(
            DialinFailure,
            and_(DialinFailure.bridge_id == ServiceNumber.bridge_id, DialinFailure.caller == caller),
        )
        .outerjoin(
            ConferenceIdRow,
            and_(ConferenceIdRow.bridge_id == ServiceNumber.bridge_id, ConferenceIdRow.digits == typed),
        )
        .outerjoin(JitsiRoom, JitsiRoom.conference_id_id == ConferenceIdRow.id)
        # a dynamic ID's own meeting (its row points back only while the ID is live)
        .outerjoin(
            Meeting, and_(Meeting.conference_id_row_id == ConferenceIdRow.id, Meeting.status == "scheduled")
        )
        .outerjoin(User, User.id == ConferenceIdRow.owner_user_id)
        .where(ServiceNumber.e164 == dialed)
    )


# built once, at import: a statement object built lazily by parallel threads (`dialconf agi` resolves in
# several) could be built twice, and SQLAlchemy then adapts the cached result columns of the one it
# compiled first to the other on every execution, which costs more than the query itself
_NUMBER = _number_statement()
_LANGUAGE = _language_statement()
_RESOLVE = _resolve_statement()


def _why_not_valid(call: Row[Any], typed: str) -> str | None:
    """The admin-facing reason the typed ID leads to no meeting, or None when it leads to one."""
    if not typed.isdigit() or len(typed) != call.id_length:
        return f"a conference ID on this number has {call.id_length} digits"
    if call.id_row is None:
        return "no meeting has this conference ID"
    if call.id_state != "live":
        return "it was reset or released and is quarantined"
    if call.jitsi_room is not None:
        return None  # a Jitsi Meet room's ID (services.jitsi): no organizer
    if call.user_id is None:
        return "no organizer holds this conference ID"
    if not call.enabled:
        return "it belongs to a disabled user"
    if call.provider != "builtin":
        return "it belongs to a user of a third-party audio conferencing provider"
    return None


def _caller_key(caller: str | None) -> str:
    if not caller or not caller.strip():
        return ANONYMOUS
    try:
        return _parse(caller)
    except InvalidPhoneNumber:
        # a withheld or odd caller ID still gets counted, under the text the PBX gave
        return caller.strip()[:32]


def _count_failure(
    uow: UnitOfWork, bridge_id: int, caller: str, policy: CallerPolicy, now: datetime
) -> datetime | None:
    """Count one wrong ID against the caller; return the end of the caller's lockout if one is on."""
    # parallel first wrong IDs of one caller would each insert the row and all but one fail on the
    # unique key: insert-if-absent, then lock the row, so that every call counts once
    insert = postgresql.insert if uow.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    uow.session.execute(
        insert(DialinFailure)
        .values(bridge_id=bridge_id, caller=caller, failures=0, window_started=now)
        .on_conflict_do_nothing(index_elements=[DialinFailure.bridge_id, DialinFailure.caller])
    )
    record = uow.session.scalars(
        select(DialinFailure)
        .where(DialinFailure.bridge_id == bridge_id, DialinFailure.caller == caller)
        .with_for_update()
    ).one()
    if record.locked_until is not None and record.locked_until > now:
        return record.locked_until  # a parallel call locked the caller out meanwhile
    if now - record.window_started > policy.window:
        record.failures, record.window_started = 0, now
    record.failures += 1
    if record.failures >= policy.max_failures:
        record.locked_until = now + policy.lockout
        record.failures, record.window_started = 0, now
        return record.locked_until
    return None


def _count_bridge_failure(uow: UnitOfWork, call: Row[Any], now: datetime, actor: Actor) -> bool:
    """Count one wrong ID against the bridge; True when the bridge is slowed down (from now on).

    Crossing the limit starts an episode of BRIDGE_WINDOW and writes one audit event; wrong IDs
    during the episode only keep counting.
    """
    bridge = uow.session.scalars(select(Bridge).where(Bridge.id == call.bridge_id).with_for_update()).one()
    if bridge.dialin_window_started is None or now - bridge.dialin_window_started > BRIDGE_WINDOW:
        bridge.dialin_failures, bridge.dialin_window_started = 0, now
    bridge.dialin_failures += 1
    slowed = bridge.dialin_slowed_since is not None and now - bridge.dialin_slowed_since < BRIDGE_WINDOW
    if slowed or bridge.dialin_failures < call.dialin_bridge_max_failures:
        return slowed
    bridge.dialin_slowed_since = now
    audit(
        uow,
        actor,
        "dialin.bridge.slowed",
        f"{call.tenant}/{call.bridge}",
        tenant_id=call.tenant_id,
        detail=(
            f"{bridge.dialin_failures} wrong conference IDs within an hour on bridge {call.bridge}: every "
            f"call to it waits {call.dialin_bridge_delay_seconds} s for the next hour"
        ),
    )
    return True


def _check_leader_pin(
    uow: UnitOfWork, user_id: int, pin: str, tenant_pin_length: int, now: datetime
) -> str | None:
    """Return why the PIN is refused, or None when the caller may lead the meeting."""
    # the row lock makes check-and-count one step: parallel wrong PINs cannot all be checked against
    # the same old count, so exactly the policy's limit of them is ever verified before the lock
    user = uow.session.scalars(select(User).where(User.id == user_id).with_for_update()).one_or_none()
    if user is None or user.pin_hash is None:
        return NO_PIN
    state = AttemptState(
        failures_in_window=user.pin_failures_in_window,
        window_started=user.pin_window_started,
        total_failures=user.pin_total_failures,
        locked_until=user.pin_locked_until,
        locked_for_good=user.pin_locked_for_good,
    )
    if state.is_locked(now):
        return PIN_LOCKED
    policy = LockoutPolicy.for_length(user.pin_length or tenant_pin_length)
    if verify_pin(uow.pin_key, user.upn, clean_digits(pin), user.pin_hash):
        state.record_success()
        verdict = None
    else:
        state.record_failure(policy, now)
        verdict = WRONG_PIN
    user.pin_failures_in_window, user.pin_window_started = state.failures_in_window, state.window_started
    user.pin_total_failures, user.pin_locked_until = state.total_failures, state.locked_until
    user.pin_locked_for_good = state.locked_for_good
    return verdict
