"""search speed: the users of a tenant in sign-in name order with the names a search compares

One index, `ix_users_tenant_names`, for a search that matches many users (services/users.py,
`_first_nearby`): it walks the tenant's users in sign-in name order and compares each sign-in name,
display name and email with the search text, reading the index alone, not the rows:
- SQLite: users (tenant_id, upn, display_name, email);
- PostgreSQL: users (tenant_id, upn) INCLUDE (id, display_name, email) (an index-only scan needs
  every column the query reads, the id too; on SQLite the row id is in every index).
Creating the index fills it with the users already there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 21:15:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEX = "ix_users_tenant_names"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {INDEX} ON users (tenant_id, upn) INCLUDE (id, display_name, email)")
    else:
        op.create_index(INDEX, "users", ["tenant_id", "upn", "display_name", "email"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="users")
