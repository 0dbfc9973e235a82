"""Web sign-in: server-side sessions and the sign-in throttle.

A session id is 32 random bytes handed to the browser once (in its cookie); the database keeps only
its sha256, the account and a per-session CSRF secret. Failed sign-ins are counted per account name
as typed (known or not, so the answer never tells whether an account exists) and per client address;
MAX_FAILURES within FAILURE_WINDOW lock that name or address out for LOCKOUT.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from dialconf.domain.roles import Actor, Role
from dialconf.errors import Forbidden, NotSignedIn, TooManySignIns
from dialconf.services.admins import authenticate
from dialconf.services.common import audit
from dialconf.store.models import AdminAccount, SignInFailure, Tenant, WebSession
from dialconf.store.uow import UnitOfWork

SESSION_LIFETIME = timedelta(hours=12)
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
# last_seen_at is written at most this often: a page view should not always be a write
SEEN_RESOLUTION = timedelta(minutes=5)
THROTTLED = "too many failed sign-ins; try again in 15 minutes"


def token_hash(token: str) -> str:
    """The stored form of a session id or API token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    token: str  # the session id for the cookie, handed out once
    csrf_token: str
    actor: Actor


@dataclass(frozen=True)
class Session:
    actor: Actor
    csrf_token: str


def sign_in(uow: UnitOfWork, *, email: str, password: str, client: str) -> SignedIn:
    """Check the password and open a session; refuse for a while after repeated failures."""
    name = email.strip().lower()[:320]
    keys = [("account", name), ("client", client[:320])]
    with uow.read():
        now = uow.now()
        rows = _failures(uow, keys)
        if any(r.locked_until is not None and r.locked_until > now for r in rows):
            raise TooManySignIns(THROTTLED)
    try:
        actor = authenticate(uow, email=name, password=password)
    except Forbidden:
        _record_failure(uow, keys)
        raise
    token, csrf = secrets.token_urlsafe(32), secrets.token_hex(32)
    with uow:
        now = uow.now()
        account = uow.session.scalars(select(AdminAccount).where(AdminAccount.email == actor.name)).one()
        uow.session.add(
            WebSession(
                session_hash=token_hash(token),
                account_id=account.id,
                csrf_secret=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
                last_seen_at=now,
            )
        )
        # a right password clears the name's count, not the address's: one good account must not
        # let an address go on guessing others
        uow.session.execute(
            delete(SignInFailure).where(SignInFailure.kind == "account", SignInFailure.key == name)
        )
        audit(uow, actor, "signin", actor.name, tenant_id=actor.tenant_id, detail=f"from {client}")
        uow.commit()
    return SignedIn(token=token, csrf_token=csrf, actor=actor)


def _failures(uow: UnitOfWork, keys: list[tuple[str, str]]) -> list[SignInFailure]:
    rows: list[SignInFailure] = []
    for kind, key in keys:
        row = uow.session.scalars(
            select(SignInFailure).where(SignInFailure.kind == kind, SignInFailure.key == key)
        ).one_or_none()
        if row is not None:
            rows.append(row)
    return rows


def _record_failure(uow: UnitOfWork, keys: list[tuple[str, str]]) -> None:
    with uow:
        now = uow.now()
        found = {(r.kind, r.key): r for r in _failures(uow, keys)}
        for kind, key in keys:
            row = found.get((kind, key))
            if row is None:
                row = SignInFailure(kind=kind, key=key, failures=0, window_started=now)
                uow.session.add(row)
            elif row.window_started + FAILURE_WINDOW <= now:
                row.failures, row.window_started, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= MAX_FAILURES:
                row.locked_until = now + LOCKOUT
        uow.commit()


def sign_out(uow: UnitOfWork, *, token: str) -> None:
    """End the session (nothing happens for an unknown one)."""
    with uow:
        uow.session.execute(delete(WebSession).where(WebSession.session_hash == token_hash(token)))
        uow.commit()


def actor_for_session(uow: UnitOfWork, *, token: str) -> Session:
    """The signed-in actor and CSRF secret of a session id; NotSignedIn when unknown or expired."""
    with uow.read():
        row = uow.session.execute(
            select(WebSession, AdminAccount, Tenant.name)
            .join(AdminAccount, AdminAccount.id == WebSession.account_id)
            .outerjoin(Tenant, Tenant.id == AdminAccount.tenant_id)
            .where(WebSession.session_hash == token_hash(token))
        ).one_or_none()
        now = uow.now()
        if row is None or row[0].expires_at <= now:
            raise NotSignedIn("your session has ended; sign in again")
        web, account, tenant_name = row
        session = Session(
            actor=Actor(
                name=account.email,
                role=Role(account.role),
                tenant_id=account.tenant_id,
                tenant_name=tenant_name,
            ),
            csrf_token=web.csrf_secret,
        )
        stale = web.last_seen_at + SEEN_RESOLUTION <= now
        web_id = web.id
    if stale:
        with uow:
            seen = uow.session.get(WebSession, web_id)
            if seen is not None:
                seen.last_seen_at = now
                uow.commit()
    return session
