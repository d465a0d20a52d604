"""A served backend with single sign-on through a private ``OpenIdProvider``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from backend.config import Settings
from backend.database import make_engine, make_session_factory
from backend.main import create_app
from backend.people import service as people
from tests.helpers import serve_app
from tests.oidc.idp import CLIENT_ID, OpenIdProvider
from tests.services import free_port, make_tempdir
from werkplek.demo import prepare_database

#: A local account with the name the provider proposes for anna: it must stay hers alone.
LOCAL_PASSWORD = "correct-horse-battery"


@dataclass
class SsoBackend:
    """Where the backend and its provider are."""

    url: str
    settings: Settings
    idp: OpenIdProvider


@contextmanager
def sso_backend(tmp_path: Path) -> Iterator[SsoBackend]:
    """Seed the demo municipality plus a local ``anna``; serve it with its provider."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    workdir = make_tempdir("oidc")
    idp = OpenIdProvider(workdir, url)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/werkplek.sqlite3",
        mqtt_enabled=False,
        http_port=port,
        oidc_issuer=idp.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=idp.client_secret,
        oidc_redirect_url=idp.redirect_url,
        oidc_scopes="openid profile email groups",
        oidc_groups_claim="groups",
        oidc_role_groups={"werkplek-facilitair": "facility"},
        oidc_jwks_refetch_s=1.0,
    )
    prepare_database(settings)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            people.create_user(
                session, username="anna", display_name="Local Anna", password=LOCAL_PASSWORD
            )
    finally:
        engine.dispose()
    idp.start()
    try:
        with serve_app(create_app(settings), port) as served:
            yield SsoBackend(served, settings, idp)
    finally:
        idp.stop()
        shutil.rmtree(workdir, ignore_errors=True)
