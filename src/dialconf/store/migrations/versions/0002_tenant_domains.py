"""tenant domains

A tenant holds any number of domains, each held by one tenant only. The existing `tenants.domain`
values become the first rows; when two tenants named the same domain, the older tenant keeps it and
the other one is left with no primary domain until the operator adds one (`dialconf tenant
add-domain`). `tenants.domain` stays as the tenant's primary domain, always one of its rows here.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dialconf.store.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenant_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("created_at", dialconf.store.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_domains_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_domains")),
        sa.UniqueConstraint("domain", name=op.f("uq_tenant_domains_domain")),
    )
    with op.batch_alter_table("tenant_domains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tenant_domains_tenant_id"), ["tenant_id"], unique=False)

    # the same spelling everywhere: domains are compared in lower case without surrounding blanks
    op.execute("UPDATE tenants SET domain = lower(trim(domain)) WHERE domain IS NOT NULL")
    op.execute("UPDATE tenants SET domain = NULL WHERE domain = ''")
    # a domain named by two tenants goes to the older one; the other loses it as its primary domain
    op.execute(
        "UPDATE tenants SET domain = NULL WHERE domain IS NOT NULL AND id > "
        "(SELECT min(older.id) FROM tenants older WHERE older.domain = tenants.domain)"
    )
    op.execute(
        "INSERT INTO tenant_domains (tenant_id, domain, created_at) "
        "SELECT id, domain, created_at FROM tenants WHERE domain IS NOT NULL ORDER BY id"
    )


def downgrade() -> None:
    # tenants.domain still names each tenant's primary domain; the others are given up
    with op.batch_alter_table("tenant_domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenant_domains_tenant_id"))
    op.drop_table("tenant_domains")
