import os

import pytest


@pytest.fixture(autouse=True)
def _no_werkplek_env(monkeypatch):
    """History tests set every setting they rely on; a developer's WERKPLEK_* must not leak in."""
    for name in list(os.environ):
        if name.startswith("WERKPLEK_"):
            monkeypatch.delenv(name)
