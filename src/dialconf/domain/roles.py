"""Who may do what (DESIGN §7)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    ADMIN = "admin"
    HELPDESK = "helpdesk"
    # a phone system: resolves calls (HTTP lookup, `dialconf agi`) and nothing else; bound to one
    # tenant it resolves only calls to that tenant's numbers, unbound (operator's choice) all of them
    PBX = "pbx"


class Permission(StrEnum):
    MANAGE_TENANTS = "manage tenants"  # create tenants, switch conference ID mode
    CREATE_BRIDGES = "create bridges"  # a bridge fixes its conference ID length for good
    MANAGE_SETTINGS = "change settings"  # tenant settings, service numbers
    MANAGE_USERS = "manage users"  # enable, disable, import, set IDs, providers, numbers
    MANAGE_ADMINS = "manage admin accounts"
    RESET_SECRETS = "reset conference IDs and PINs"
    SEND_INFO = "send conference info"
    VIEW = "view"
    RESOLVE_CALLS = "resolve calls"  # dial-in lookup: what a phone system asks (the operator, a pbx account)
    RUN_SERVICES = "run database upgrades, workers and mail delivery"  # the installation, not a tenant
    ADD_NUMBERS = "add service numbers"  # numbers are the operator's inventory; admins choose defaults


# the installation and its tenants as a whole; resolving calls is for the operator and pbx accounts
_OPERATOR_ONLY = frozenset(
    {
        Permission.MANAGE_TENANTS,
        Permission.CREATE_BRIDGES,
        Permission.RESOLVE_CALLS,
        Permission.RUN_SERVICES,
        Permission.ADD_NUMBERS,
    }
)

_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: frozenset(Permission),
    Role.ADMIN: frozenset(Permission) - _OPERATOR_ONLY,
    Role.HELPDESK: frozenset({Permission.RESET_SECRETS, Permission.SEND_INFO, Permission.VIEW}),
    Role.PBX: frozenset({Permission.RESOLVE_CALLS}),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever asks a service to act: the operator, or an admin account bound to one tenant."""

    name: str
    role: Role
    tenant_id: int | None = None
    tenant_name: str | None = None

    @classmethod
    def operator(cls, name: str = "operator") -> Actor:
        return cls(name=name, role=Role.OPERATOR)

    def may(self, permission: Permission) -> bool:
        return permission in _GRANTS[self.role]
