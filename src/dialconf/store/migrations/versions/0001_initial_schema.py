"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 12:11:11.986163
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dialconf.store.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("conference_id_mode", sa.String(length=10), nullable=False),
        sa.Column("auto_email", sa.Boolean(), nullable=False),
        sa.Column("pin_length", sa.Integer(), nullable=False),
        sa.Column("email_from_address", sa.String(length=320), nullable=True),
        sa.Column("email_from_name", sa.String(length=200), nullable=True),
        sa.Column("meeting_migration", sa.Boolean(), nullable=False),
        sa.Column("id_quarantine_days", sa.Integer(), nullable=False),
        sa.Column("created_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("name", name=op.f("uq_tenants_name")),
    )
    op.create_table(
        "admin_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_admin_accounts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_admin_accounts_email")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=320), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_events_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_tenant_target", ["tenant_id", "target"], unique=False)

    op.create_table(
        "bridges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_length", sa.Integer(), nullable=False),
        sa.Column("default_number_id", sa.Integer(), nullable=True),
        sa.Column("ids_in_use", sa.Integer(), nullable=False),
        sa.Column("created_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_bridges_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bridges")),
        sa.UniqueConstraint("tenant_id", "name", name="uq_bridges_tenant_name"),
    )
    with op.batch_alter_table("bridges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bridges_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("user_upn", sa.String(length=320), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("to_addr", sa.String(length=320), nullable=False),
        sa.Column("from_addr", sa.String(length=320), nullable=False),
        sa.Column("from_name", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("ics", sa.Text(), nullable=True),
        sa.Column("carries_pin", sa.Boolean(), nullable=False),
        sa.Column("redacted", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", dialconf.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_outbox_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_status_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "dialin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bridge_id", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", dialconf.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bridge_id"],
            ["bridges.id"],
            name=op.f("fk_dialin_failures_bridge_id_bridges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dialin_failures")),
        sa.UniqueConstraint("bridge_id", "caller", name="uq_dialin_failures_bridge_caller"),
    )
    op.create_table(
        "service_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("bridge_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("toll_free", sa.Boolean(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("primary_language", sa.String(length=20), nullable=False),
        sa.Column("secondary_languages", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bridge_id"],
            ["bridges.id"],
            name=op.f("fk_service_numbers_bridge_id_bridges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_service_numbers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_numbers")),
        sa.UniqueConstraint("e164", name=op.f("uq_service_numbers_e164")),
    )
    with op.batch_alter_table("service_numbers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_numbers_bridge_id"), ["bridge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_numbers_tenant_id"), ["tenant_id"], unique=False)

    # bridges and service numbers point at each other: add the bridge's default-number key last
    with op.batch_alter_table("bridges", schema=None) as batch_op:
        batch_op.create_foreign_key(
            op.f("fk_bridges_default_number_id_service_numbers"),
            "service_numbers",
            ["default_number_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("bridge_id", sa.Integer(), nullable=False),
        sa.Column("upn", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("toll_number_id", sa.Integer(), nullable=True),
        sa.Column("toll_free_number_id", sa.Integer(), nullable=True),
        sa.Column("toll_free_allowed", sa.Boolean(), nullable=False),
        sa.Column("acp_conference_id", sa.String(length=20), nullable=True),
        sa.Column("acp_provider_name", sa.String(length=200), nullable=True),
        sa.Column("acp_domain", sa.String(length=255), nullable=True),
        sa.Column("acp_toll_number", sa.String(length=20), nullable=True),
        sa.Column("acp_toll_free_numbers", sa.JSON(), nullable=False),
        sa.Column("acp_participant_passcode", sa.String(length=20), nullable=True),
        sa.Column("acp_url", sa.String(length=500), nullable=True),
        sa.Column("pin_hash", sa.String(length=64), nullable=True),
        sa.Column("pin_length", sa.Integer(), nullable=True),
        sa.Column("pin_set_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("pin_failures_in_window", sa.Integer(), nullable=False),
        sa.Column("pin_window_started", dialconf.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("pin_total_failures", sa.Integer(), nullable=False),
        sa.Column("pin_locked_until", dialconf.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("pin_locked_for_good", sa.Boolean(), nullable=False),
        sa.Column("created_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bridge_id"], ["bridges.id"], name=op.f("fk_users_bridge_id_bridges")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_users_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["toll_free_number_id"],
            ["service_numbers.id"],
            name=op.f("fk_users_toll_free_number_id_service_numbers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["toll_number_id"],
            ["service_numbers.id"],
            name=op.f("fk_users_toll_number_id_service_numbers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("upn", name=op.f("uq_users_upn")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_bridge_id"), ["bridge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_users_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "conference_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bridge_id", sa.Integer(), nullable=False),
        sa.Column("digits", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("released_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("quarantine_until", dialconf.store.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bridge_id"],
            ["bridges.id"],
            name=op.f("fk_conference_ids_bridge_id_bridges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["users.id"],
            name=op.f("fk_conference_ids_owner_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conference_ids")),
        sa.UniqueConstraint("bridge_id", "digits", name="uq_conference_ids_bridge_digits"),
    )
    with op.batch_alter_table("conference_ids", schema=None) as batch_op:
        batch_op.create_index("ix_conference_ids_owner_state", ["owner_user_id", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bridges", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_bridges_default_number_id_service_numbers"), type_="foreignkey")

    with op.batch_alter_table("conference_ids", schema=None) as batch_op:
        batch_op.drop_index("ix_conference_ids_owner_state")

    op.drop_table("conference_ids")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_users_bridge_id"))

    op.drop_table("users")
    with op.batch_alter_table("service_numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_numbers_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_service_numbers_bridge_id"))

    op.drop_table("service_numbers")
    op.drop_table("dialin_failures")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_tenant_id"))
        batch_op.drop_index("ix_outbox_status_due")

    op.drop_table("outbox")
    with op.batch_alter_table("bridges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bridges_tenant_id"))

    op.drop_table("bridges")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_tenant_target")

    op.drop_table("audit_events")
    op.drop_table("admin_accounts")
    op.drop_table("tenants")
