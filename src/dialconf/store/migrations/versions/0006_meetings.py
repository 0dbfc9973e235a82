"""meetings

Meetings scheduled through dialconf (organizer, time, recurrence, attendees, the conference ID and
dial-in block of the invitation and, in dynamic mode, the meeting's own conference_ids row), the
tenant setting of how long after its last occurrence a meeting's own ID is kept, and the meeting
migration jobs that rewrite and re-send an organizer's upcoming invitations.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 19:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dialconf.store.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_DATETIME = dialconf.store.models.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("meeting_id_grace_days", sa.Integer(), server_default="1", nullable=False)
        )

    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("rrule", sa.String(length=500), nullable=True),
        sa.Column("last_ends_at", UTC_DATETIME, nullable=True),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("conference_id", sa.String(length=10), nullable=False),
        sa.Column("dialin_block", sa.Text(), nullable=False),
        sa.Column("conference_id_row_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("id_released_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_meetings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["users.id"], name=op.f("fk_meetings_organizer_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["conference_id_row_id"],
            ["conference_ids.id"],
            name=op.f("fk_meetings_conference_id_row_id_conference_ids"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("uid", name=op.f("uq_meetings_uid")),
        sa.UniqueConstraint("conference_id_row_id", name=op.f("uq_meetings_conference_id_row_id")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index("ix_meetings_tenant_organizer", ["tenant_id", "organizer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_last_ends_at"), ["last_ends_at"], unique=False)

    op.create_table(
        "meeting_migrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("meetings_updated", sa.Integer(), nullable=False),
        sa.Column("last_message", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_meeting_migrations_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["users.id"],
            name=op.f("fk_meeting_migrations_organizer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_migrations")),
    )
    with op.batch_alter_table("meeting_migrations", schema=None) as batch_op:
        batch_op.create_index("ix_meeting_migrations_state_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_meeting_migrations_organizer_id"), ["organizer_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting_migrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_migrations_organizer_id"))
        batch_op.drop_index("ix_meeting_migrations_state_due")
    op.drop_table("meeting_migrations")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_last_ends_at"))
        batch_op.drop_index("ix_meetings_tenant_organizer")
    op.drop_table("meetings")
    # a plain DROP COLUMN (SQLite >= 3.35): a batch copy of tenants would, with foreign keys on,
    # cascade into every table that points at it and delete their rows
    op.drop_column("tenants", "meeting_id_grace_days")
