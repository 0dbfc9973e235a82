"""Admin accounts (operator of the installation, or admin or helpdesk of one tenant) and who is acting."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlalchemy import select

from dialconf.domain.roles import Actor, Permission, Role
from dialconf.errors import AdminNotFound, AlreadyExists, Forbidden, InvalidInput
from dialconf.services.common import audit, get_tenant
from dialconf.services.tenants import domains_of, require_sign_in_domain, validate_email
from dialconf.services.views import AdminView
from dialconf.store.models import AdminAccount, Tenant
from dialconf.store.uow import UnitOfWork

MIN_PASSWORD_LENGTH = 8
# `dialconf up` creates this operator account on a database that has none (unless told another name)
FIRST_OPERATOR_EMAIL = "operator@dialconf.localhost"


def create_admin(
    uow: UnitOfWork, *, email: str, tenant: str | None, role: str, password: str, actor: Actor
) -> AdminView:
    """Create an account; the password is stored as an Argon2 hash.

    An admin or helpdesk account belongs to one tenant and signs in within its domains; an operator
    account belongs to no tenant and only the operator may create one.
    """
    email = validate_email(email).lower()
    if role not in (Role.ADMIN, Role.HELPDESK, Role.OPERATOR, Role.PBX):
        raise InvalidInput(f"role must be 'admin', 'helpdesk', 'operator' or 'pbx', not '{role}'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if role == Role.OPERATOR:
        if tenant:
            raise InvalidInput("an operator account belongs to no tenant: leave out --tenant")
        return _create_operator(uow, email=email, password=password, actor=actor)
    if role == Role.PBX and actor.role != Role.OPERATOR:
        raise Forbidden("only the operator may create a pbx account (it resolves calls and can lock callers out)")
    if role == Role.PBX and not tenant:
        return _create_operator(uow, email=email, password=password, actor=actor, role=Role.PBX)
    if not tenant:
        raise InvalidInput(f"a{'n' if role == Role.ADMIN else ''} {role} account belongs to a tenant: give --tenant")
    with uow:
        t = get_tenant(uow, tenant, actor, Permission.MANAGE_ADMINS)
        # an account signs in like a user: in the tenant's domains, and refused in the same words
        # whether or not another tenant has an account by that name
        require_sign_in_domain(email, t, domains_of(uow, t))
        if uow.session.scalars(select(AdminAccount).where(AdminAccount.email == email)).first() is not None:
            raise AlreadyExists(f"admin account '{email}' already exists")
        account = AdminAccount(
            email=email,
            tenant_id=t.id,
            role=str(role),
            password_hash=PasswordHasher().hash(password),
            created_at=uow.now(),
        )
        uow.session.add(account)
        audit(uow, actor, "admin.create", email, tenant_id=t.id, after={"role": str(role)})
        uow.commit()
        return AdminView(email=email, tenant=t.name, role=str(role))


def _create_operator(
    uow: UnitOfWork, *, email: str, password: str, actor: Actor, role: Role = Role.OPERATOR
) -> AdminView:
    """An account of no tenant: an operator, or a pbx account that resolves calls for every tenant."""
    if actor.role != Role.OPERATOR:
        raise Forbidden("only the operator may create an operator account")
    with uow:
        if uow.session.scalars(select(AdminAccount).where(AdminAccount.email == email)).first() is not None:
            raise AlreadyExists(f"admin account '{email}' already exists")
        uow.session.add(
            AdminAccount(
                email=email,
                tenant_id=None,
                role=str(role),
                password_hash=PasswordHasher().hash(password),
                created_at=uow.now(),
            )
        )
        audit(uow, actor, "admin.create", email, tenant_id=None, after={"role": str(role)})
        uow.commit()
        return AdminView(email=email, tenant=None, role=str(role))


@dataclass(frozen=True)
class FirstOperator:
    email: str
    password: str | None  # None when the password came from the caller (it is not printed back)


def ensure_operator_account(
    uow: UnitOfWork, *, email: str | None = None, password: str | None = None
) -> FirstOperator | None:
    """On a database with no operator account, create one (with a random password unless given); else None."""
    with uow.read():
        exists = uow.session.scalars(
            select(AdminAccount.id).where(AdminAccount.role == str(Role.OPERATOR)).limit(1)
        ).first()
    if exists is not None:
        return None
    chosen = password or secrets.token_urlsafe(12)
    view = create_admin(
        uow,
        email=email or FIRST_OPERATOR_EMAIL,
        tenant=None,
        role=str(Role.OPERATOR),
        password=chosen,
        actor=Actor.operator(),
    )
    return FirstOperator(email=view.email, password=None if password else chosen)


def list_admins(uow: UnitOfWork, *, tenant: str, actor: Actor) -> list[AdminView]:
    with uow.read():
        t = get_tenant(uow, tenant, actor, Permission.MANAGE_ADMINS)
        rows = uow.session.scalars(
            select(AdminAccount).where(AdminAccount.tenant_id == t.id).order_by(AdminAccount.email)
        )
        return [AdminView(email=a.email, tenant=t.name, role=a.role) for a in rows]


def actor_for(uow: UnitOfWork, email: str) -> Actor:
    """The actor behind an admin account, named by the CLI's --as or DIALCONF_ACTOR."""
    with uow.read():
        account = uow.session.scalars(
            select(AdminAccount).where(AdminAccount.email == email.strip().lower())
        ).one_or_none()
        if account is None:
            raise AdminNotFound(email)
        tenant = uow.session.get(Tenant, account.tenant_id) if account.tenant_id else None
        return Actor(
            name=account.email,
            role=Role(account.role),
            tenant_id=account.tenant_id,
            tenant_name=tenant.name if tenant else None,
        )


def authenticate(uow: UnitOfWork, *, email: str, password: str) -> Actor:
    """Check an admin's password (for the web and API sign-in) and return the actor."""
    with uow.read():
        account = uow.session.scalars(
            select(AdminAccount).where(AdminAccount.email == email.strip().lower())
        ).one_or_none()
        hasher = PasswordHasher()
        if account is None:
            raise Forbidden("wrong email or password")
        try:
            hasher.verify(account.password_hash, password)
        except VerifyMismatchError as exc:
            raise Forbidden("wrong email or password") from exc
        if account.role == Role.PBX:
            raise Forbidden("a pbx account does not sign in: it calls the API with a token (dialconf token create)")
    return actor_for(uow, email)
