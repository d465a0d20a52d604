"""The backend fixtures (seeded database, app, people) for the satellite tests."""

from tests.backend.conftest import api, db_url, people, seeded, serve

__all__ = ["api", "db_url", "people", "seeded", "serve"]
