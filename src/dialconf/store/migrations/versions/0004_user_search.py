"""indexed user search

Indexes for `dialconf user list --search` and the users page (services/search.py says which query
each one serves, docs/search.md which kinds of search are indexed):
- both databases: users (tenant_id, upn) for the list in sign-in name order and keyset paging, and
  users (acp_conference_id) for third-party conference IDs;
- SQLite: `users_search`, an FTS5 table with the trigram tokenizer over the sign-in name, display name
  and email, with `users` as its external content, filled from the existing rows and kept in step by
  three triggers;
- PostgreSQL: the pg_trgm extension and GIN trigram indexes on upn, lower(display_name), lower(email).

A later migration that rebuilds `users` on SQLite (Alembic batch mode copies the table) drops the
triggers with the old table and must create them again (see `_create_sqlite_triggers`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 19:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = "upn, display_name, email"


def upgrade() -> None:
    op.create_index("ix_users_tenant_upn", "users", ["tenant_id", "upn"], unique=False)
    op.create_index("ix_users_acp_conference_id", "users", ["acp_conference_id"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE users_search USING fts5({_COLUMNS}, "
            "content='users', content_rowid='id', tokenize='trigram')"
        )
        # index the rows that are already there
        op.execute("INSERT INTO users_search(users_search) VALUES ('rebuild')")
        _create_sqlite_triggers()
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_users_upn_trgm ON users USING gin (upn gin_trgm_ops)")
        op.execute(
            "CREATE INDEX ix_users_display_name_trgm ON users USING gin (lower(display_name) gin_trgm_ops)"
        )
        op.execute("CREATE INDEX ix_users_email_trgm ON users USING gin (lower(email) gin_trgm_ops)")


def _create_sqlite_triggers() -> None:
    new = "new.id, new.upn, new.display_name, new.email"
    # an external-content FTS5 table forgets a row by being told its old values
    forget = f"INSERT INTO users_search(users_search, rowid, {_COLUMNS}) VALUES ('delete', old.id, old.upn, old.display_name, old.email);"
    op.execute(
        "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN "
        f"INSERT INTO users_search(rowid, {_COLUMNS}) VALUES ({new}); END"
    )
    op.execute(f"CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN {forget} END")
    op.execute(
        "CREATE TRIGGER users_search_update AFTER UPDATE OF id, upn, display_name, email ON users BEGIN "
        f"{forget} INSERT INTO users_search(rowid, {_COLUMNS}) VALUES ({new}); END"
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("users_search_insert", "users_search_delete", "users_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS users_search")
    elif dialect == "postgresql":
        for index in ("ix_users_upn_trgm", "ix_users_display_name_trgm", "ix_users_email_trgm"):
            op.execute(f"DROP INDEX IF EXISTS {index}")
        # the pg_trgm extension stays: other schemas of the database may use it
    op.drop_index("ix_users_acp_conference_id", table_name="users")
    op.drop_index("ix_users_tenant_upn", table_name="users")
