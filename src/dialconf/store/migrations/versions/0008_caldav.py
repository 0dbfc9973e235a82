"""a tenant's CalDAV calendar

The URL of the calendar a meeting migration also rewrites, the user name, and the password sealed
with the installation's secret key (never stored in clear).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, never a batch copy (see 0005): the tenants table is referenced by every other one
    op.add_column("tenants", sa.Column("caldav_url", sa.String(length=2000), nullable=True))
    op.add_column("tenants", sa.Column("caldav_username", sa.String(length=255), nullable=True))
    op.add_column("tenants", sa.Column("caldav_password", sa.Text(), nullable=True))


def downgrade() -> None:
    for name in ("caldav_password", "caldav_username", "caldav_url"):
        op.drop_column("tenants", name)
