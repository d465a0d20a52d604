"""Alembic migrations of the backend database (``backend.database.migrate`` runs them)."""
