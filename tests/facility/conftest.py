"""The backend's database fixtures, shared with the facility API tests."""

from tests.backend.conftest import db_url, people, seeded, serve  # noqa: F401
