"""The README's configuration table lists every setting the services read."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.config import Settings as BackendSettings
from backend.plans.settings import PlanSettings
from backend.teams.settings import TeamSettings
from gateway.settings import GatewaySettings
from werkplek.settings import DemoSettings

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


@pytest.mark.parametrize(
    "settings", [GatewaySettings, BackendSettings, DemoSettings, PlanSettings, TeamSettings]
)
def test_every_setting_is_in_the_readme_table(settings):
    missing = [
        f"WERKPLEK_{name.upper()}"
        for name in settings.model_fields
        if f"`WERKPLEK_{name.upper()}`" not in README
    ]
    assert not missing, f"add to the README's configuration table: {missing}"


@pytest.mark.parametrize(
    "doc", ["architecture", "mqtt-contract", "firmware", "operations", "privacy", "accessibility"]
)
def test_every_linked_document_exists(doc):
    assert f"docs/{doc}.md" in README
    assert (REPO / "docs" / f"{doc}.md").stat().st_size > 500
