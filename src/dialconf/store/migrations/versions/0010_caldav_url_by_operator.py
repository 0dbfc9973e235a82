"""who set a tenant's CalDAV URL: only the operator's may lead to this machine or a private address

`tenants.caldav_url_by_operator`: the worker looks the calendar's name up again before it connects,
and refuses a private address unless the operator set the URL. URLs set before this revision are
kept as they were allowed then (marked as the operator's): an admin's internal URL was already
refused when it was written as such.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 00:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN, never a batch copy of tenants (see 0005)
    op.add_column(
        "tenants",
        sa.Column("caldav_url_by_operator", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    tenants = sa.table(
        "tenants", sa.column("caldav_url", sa.String), sa.column("caldav_url_by_operator", sa.Boolean)
    )
    op.execute(tenants.update().where(tenants.c.caldav_url.is_not(None)).values(caldav_url_by_operator=True))


def downgrade() -> None:
    op.drop_column("tenants", "caldav_url_by_operator")
