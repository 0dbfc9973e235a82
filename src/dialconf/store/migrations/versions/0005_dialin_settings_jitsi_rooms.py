"""dial-in guessing limits per tenant, the bridge counter, Jitsi rooms

Tenant settings for the caller lockout and the bridge limit (defaults: the values the code used
before), the tenant's Jitsi MUC domain, the wrong-ID counter of each bridge, and the table of Jitsi
rooms that hold a conference ID.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dialconf.store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_DATETIME = dialconf.store.models.UtcDateTime(timezone=True)
TENANT_LIMITS = [
    ("dialin_caller_max_failures", "5"),
    ("dialin_caller_window_minutes", "15"),
    ("dialin_caller_lockout_minutes", "30"),
    ("dialin_bridge_max_failures", "100"),
    ("dialin_bridge_delay_seconds", "5"),
]


def upgrade() -> None:
    # plain ADD COLUMN, never a batch copy: on SQLite, dropping the old tenants or bridges table of a
    # batch copy would cascade into every table that references it
    for name, default in TENANT_LIMITS:
        op.add_column("tenants", sa.Column(name, sa.Integer(), server_default=default, nullable=False))
    op.add_column("tenants", sa.Column("jitsi_muc_domain", sa.String(length=255), nullable=True))
    op.create_index(op.f("ix_tenants_jitsi_muc_domain"), "tenants", ["jitsi_muc_domain"], unique=True)
    op.add_column("bridges", sa.Column("dialin_failures", sa.Integer(), server_default="0", nullable=False))
    op.add_column("bridges", sa.Column("dialin_window_started", UTC_DATETIME, nullable=True))
    op.add_column("bridges", sa.Column("dialin_slowed_since", UTC_DATETIME, nullable=True))
    op.create_table(
        "jitsi_rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(length=512), nullable=False),
        sa.Column("conference_id_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["conference_id_id"],
            ["conference_ids.id"],
            name=op.f("fk_jitsi_rooms_conference_id_id_conference_ids"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_jitsi_rooms_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jitsi_rooms")),
        sa.UniqueConstraint("conference_id_id", name=op.f("uq_jitsi_rooms_conference_id_id")),
        sa.UniqueConstraint("tenant_id", "room", name="uq_jitsi_rooms_tenant_room"),
    )


def downgrade() -> None:
    op.drop_table("jitsi_rooms")
    for name in ("dialin_slowed_since", "dialin_window_started", "dialin_failures"):
        op.drop_column("bridges", name)
    op.drop_index(op.f("ix_tenants_jitsi_muc_domain"), table_name="tenants")
    op.drop_column("tenants", "jitsi_muc_domain")
    for name, _ in reversed(TENANT_LIMITS):
        op.drop_column("tenants", name)
