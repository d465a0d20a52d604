"""Fixtures of the plan and team tests: the backend tests' databases, apps and people."""

from __future__ import annotations

from tests.backend.conftest import api, bearer, db_url, people, seeded, serve

__all__ = ["api", "bearer", "db_url", "people", "seeded", "serve"]
