"""What the auto attendant does with a call: dialed number + typed digits -> join a room, or reject (DESIGN §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from dialconf.domain import numbers
from dialconf.domain.ids import clean_digits
from dialconf.domain.pins import AttemptState, LockoutPolicy, verify_pin
from dialconf.errors import InvalidPhoneNumber
from dialconf.services.views import LookupResult
from dialconf.store.models import Bridge, ConferenceIdRow, DialinFailure, ServiceNumber, Tenant, User
from dialconf.store.uow import UnitOfWork

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class CallerPolicy:
    """Wrong conference IDs allowed per caller number and bridge before the caller is locked out."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=30)


def lookup(
    uow: UnitOfWork,
    *,
    number: str,
    digits: str,
    caller: str | None = None,
    pin: str | None = None,
    policy: CallerPolicy | None = None,
) -> LookupResult:
    """Resolve a call. Wrong IDs count against the caller; the next lookup after a reset sees the new state."""
    policy = policy or CallerPolicy()
    dialed = numbers.parse_e164(number)
    caller_key = _caller_key(caller)
    with uow:
        now = uow.now()
        service = uow.session.scalars(select(ServiceNumber).where(ServiceNumber.e164 == dialed)).one_or_none()
        if service is None:
            return LookupResult(result="reject", reason=f"{dialed} is not a dial-in number of this service")
        bridge = uow.session.get(Bridge, service.bridge_id)
        tenant = uow.session.get(Tenant, service.tenant_id)
        assert bridge is not None and tenant is not None
        where: dict[str, Any] = {"tenant": tenant.name, "bridge": bridge.name}
        record = uow.session.scalars(
            select(DialinFailure).where(
                DialinFailure.bridge_id == bridge.id, DialinFailure.caller == caller_key
            )
        ).one_or_none()
        if record is not None and record.locked_until is not None and record.locked_until > now:
            return LookupResult(
                result="reject",
                reason="too many wrong conference IDs from this caller; try again later",
                locked_until=record.locked_until,
                **where,
            )
        typed = clean_digits(digits)
        user: User | None = None
        reason = ""
        if not typed.isdigit() or len(typed) != bridge.id_length:
            reason = f"a conference ID on this number has {bridge.id_length} digits"
        else:
            row = uow.session.scalars(
                select(ConferenceIdRow).where(
                    ConferenceIdRow.bridge_id == bridge.id, ConferenceIdRow.digits == typed
                )
            ).one_or_none()
            if row is None:
                reason = "no meeting has this conference ID"
            elif row.state != "live":
                reason = "this conference ID is no longer valid (it was reset or released)"
            elif row.owner_user_id is not None:
                user = uow.session.get(User, row.owner_user_id)
                if user is None or not user.enabled or user.provider != "builtin":
                    user, reason = None, "this conference ID is no longer valid"
        if user is None:
            locked_until = _count_failure(uow, bridge.id, caller_key, record, policy, now)
            uow.commit()
            return LookupResult(result="reject", reason=reason, locked_until=locked_until, **where)
        if record is not None:
            record.failures, record.locked_until = 0, None
        room = f"{tenant.name}-{typed}"
        if pin is not None:
            verdict = _check_leader_pin(uow, tenant, user, pin, now)
            uow.commit()
            if verdict:
                return LookupResult(result="reject", reason=verdict, upn=user.upn, **where)
            return LookupResult(result="join", reason="leader", upn=user.upn, room=room, **where)
        uow.commit()
        return LookupResult(result="join", reason="participant", upn=user.upn, room=room, **where)


def _caller_key(caller: str | None) -> str:
    if not caller or not caller.strip():
        return ANONYMOUS
    try:
        return numbers.parse_e164(caller)
    except InvalidPhoneNumber:
        # a withheld or odd caller ID still gets counted, under the text the PBX gave
        return caller.strip()[:32]


def _count_failure(
    uow: UnitOfWork,
    bridge_id: int,
    caller: str,
    record: DialinFailure | None,
    policy: CallerPolicy,
    now: datetime,
) -> datetime | None:
    if record is None:
        record = DialinFailure(bridge_id=bridge_id, caller=caller, failures=0, window_started=now)
        uow.session.add(record)
    if now - record.window_started > policy.window:
        record.failures, record.window_started = 0, now
    record.failures += 1
    if record.failures >= policy.max_failures:
        record.locked_until = now + policy.lockout
        record.failures, record.window_started = 0, now
        return record.locked_until
    return None


def _check_leader_pin(uow: UnitOfWork, tenant: Tenant, user: User, pin: str, now: datetime) -> str | None:
    """Return why the PIN is refused, or None when the caller may lead the meeting."""
    if user.pin_hash is None:
        return "no leader PIN is set for this organizer"
    state = AttemptState(
        failures_in_window=user.pin_failures_in_window,
        window_started=user.pin_window_started,
        total_failures=user.pin_total_failures,
        locked_until=user.pin_locked_until,
        locked_for_good=user.pin_locked_for_good,
    )
    if state.is_locked(now):
        return "the leader PIN is locked after too many wrong attempts"
    policy = LockoutPolicy.for_length(user.pin_length or tenant.pin_length)
    if verify_pin(uow.pin_key, user.upn, clean_digits(pin), user.pin_hash):
        state.record_success()
        verdict = None
    else:
        state.record_failure(policy, now)
        verdict = "wrong leader PIN"
    user.pin_failures_in_window, user.pin_window_started = state.failures_in_window, state.window_started
    user.pin_total_failures, user.pin_locked_until = state.total_failures, state.locked_until
    user.pin_locked_for_good = state.locked_for_good
    return verdict
