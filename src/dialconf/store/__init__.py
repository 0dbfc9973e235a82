"""Persistence: SQLAlchemy tables, engine factory, unit of work and Alembic migrations."""
