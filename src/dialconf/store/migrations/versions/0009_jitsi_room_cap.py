"""a cap on the Jitsi rooms a tenant's conference mapper creates

`tenants.jitsi_max_rooms` (default 10,000): the public mapper creates no room beyond it; and
`tenants.jitsi_rooms_full_since`, when the mapper first refused a room in the current episode
(one audit event per episode).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dialconf.store.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC_DATETIME = dialconf.store.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    # plain ADD COLUMN, never a batch copy of tenants (see 0005)
    op.add_column("tenants", sa.Column("jitsi_max_rooms", sa.Integer(), server_default="10000", nullable=False))
    op.add_column("tenants", sa.Column("jitsi_rooms_full_since", UTC_DATETIME, nullable=True))


def downgrade() -> None:
    op.drop_column("tenants", "jitsi_rooms_full_since")
    op.drop_column("tenants", "jitsi_max_rooms")
