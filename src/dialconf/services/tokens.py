"""API tokens: bearer credentials of one admin account, shown once and stored as sha256 only."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from dialconf.domain.roles import Actor, Role
from dialconf.errors import AdminNotFound, InvalidInput, NotSignedIn, TokenNotFound
from dialconf.services.common import audit
from dialconf.services.sessions import token_hash
from dialconf.services.views import View
from dialconf.store.models import AdminAccount, ApiToken, Tenant
from dialconf.store.uow import UnitOfWork

TOKEN_PREFIX = "dct_"
# last_used_at is written at most this often, so an API call is not always a write
USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken(View):
    token: str  # the only time the plaintext exists outside the caller
    id: int
    name: str


@dataclass(frozen=True)
class TokenView(View):
    id: int
    name: str
    account: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _account(uow: UnitOfWork, actor: Actor) -> AdminAccount:
    account = uow.session.scalars(select(AdminAccount).where(AdminAccount.email == actor.name)).one_or_none()
    if account is None:
        raise AdminNotFound(actor.name)
    return account


def create_token(uow: UnitOfWork, *, actor: Actor, name: str = "") -> NewToken:
    """Create a token for the actor's own account; the plaintext is returned here and never again."""
    name = name.strip() or "token"
    if len(name) > 100:
        raise InvalidInput("a token name has at most 100 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uow:
        account = _account(uow, actor)
        row = ApiToken(account_id=account.id, name=name, token_hash=token_hash(token), created_at=uow.now())
        uow.session.add(row)
        uow.session.flush()
        audit(
            uow,
            actor,
            "token.create",
            actor.name,
            tenant_id=actor.tenant_id,
            after={"id": row.id, "name": name},
        )
        uow.commit()
        return NewToken(token=token, id=row.id, name=name)


def list_tokens(uow: UnitOfWork, *, actor: Actor) -> list[TokenView]:
    """The actor's own tokens, revoked ones included, oldest first."""
    with uow.read():
        account = _account(uow, actor)
        rows = uow.session.scalars(
            select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.id)
        )
        return [
            TokenView(
                id=t.id,
                name=t.name,
                account=account.email,
                created_at=t.created_at,
                last_used_at=t.last_used_at,
                revoked_at=t.revoked_at,
            )
            for t in rows
        ]


def revoke_token(uow: UnitOfWork, *, token_id: int, actor: Actor) -> TokenView:
    """Revoke a token: one's own, or any as the operator; someone else's is not found."""
    with uow:
        row = uow.session.get(ApiToken, token_id)
        owner = uow.session.get(AdminAccount, row.account_id) if row is not None else None
        if row is None or owner is None or (actor.role != Role.OPERATOR and owner.email != actor.name):
            raise TokenNotFound(token_id)
        if row.revoked_at is None:
            row.revoked_at = uow.now()
            audit(uow, actor, "token.revoke", owner.email, tenant_id=owner.tenant_id, after={"id": row.id})
        view = TokenView(
            id=row.id,
            name=row.name,
            account=owner.email,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )
        uow.commit()
        return view


def actor_for_token(uow: UnitOfWork, *, token: str) -> Actor:
    """The actor behind a bearer token; NotSignedIn when it is unknown or revoked."""
    with uow.read():
        row = uow.session.execute(
            select(ApiToken.id, ApiToken.revoked_at, ApiToken.last_used_at, AdminAccount, Tenant.name)
            .join(AdminAccount, AdminAccount.id == ApiToken.account_id)
            .outerjoin(Tenant, Tenant.id == AdminAccount.tenant_id)
            .where(ApiToken.token_hash == token_hash(token))
        ).one_or_none()
        if row is None or row.revoked_at is not None:
            raise NotSignedIn("unknown or revoked API token")
        account = row[3]
        actor = Actor(
            name=account.email, role=Role(account.role), tenant_id=account.tenant_id, tenant_name=row[4]
        )
        now = uow.now()
        stale = row.last_used_at is None or row.last_used_at + USE_RESOLUTION <= now
        token_id = row.id
    if stale:
        with uow:
            used = uow.session.get(ApiToken, token_id)
            if used is not None:
                used.last_used_at = now
                uow.commit()
    return actor
