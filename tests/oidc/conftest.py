"""Fixtures of the single sign-on tests: a backend and a real OpenID provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.oidc.sso_backend import SsoBackend, sso_backend


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoBackend]:
    """One backend and provider for a test module (a module's tests share its people)."""
    with sso_backend(Path(tmp_path_factory.mktemp("sso"))) as served:
        yield served
