"""docker-compose.yml is for users (no Docker engine here), so it is checked by parsing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
REQUIRED_VAR = re.compile(r"\$\{([A-Z0-9_]+):\?[^}]+\}")
ANY_VAR = re.compile(r"\$\{([A-Z0-9_]+)([^}]*)\}")


def test_the_production_services_are_all_there():
    assert set(SERVICES) >= {"mosquitto", "influxdb", "postgres", "grafana", "gateway", "backend"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_image_is_pinned_to_a_version(name):
    image = SERVICES[name]["image"]
    repo, _, tag = image.rpartition(":")
    assert repo and tag, f"{name}: image {image!r} has no tag"
    assert tag != "latest" and re.match(r"^\d+\.\d+", tag), f"{name}: tag {tag!r} is not a version"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_healthcheck(name):
    check = SERVICES[name].get("healthcheck")
    assert check and check.get("test"), f"{name} has no healthcheck"


@pytest.mark.parametrize("name", ["gateway", "backend", "grafana"])
def test_services_wait_for_healthy_dependencies(name):
    depends = SERVICES[name]["depends_on"]
    assert depends, name
    for dep, cond in depends.items():
        assert cond == {"condition": "service_healthy"}, f"{name} -> {dep}"


def _all_strings(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _all_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _all_strings(value)
    elif isinstance(node, str):
        yield node


def test_every_variable_is_required_and_listed_in_env_example():
    text = (REPO / "docker-compose.yml").read_text()
    used = ANY_VAR.findall(text)
    assert used, "compose uses no variables at all"
    for name, rest in used:
        assert rest.startswith(":?"), f"${{{name}}} must be required with :?"
    example = (REPO / ".env.example").read_text()
    for name, _ in used:
        assert re.search(rf"^{name}=", example, re.M), f"{name} missing from .env.example"


def test_no_secret_is_written_into_the_compose_file():
    secretish = re.compile(r"(PASSWORD|TOKEN|SECRET)", re.I)
    for name, service in SERVICES.items():
        env = service.get("environment", {})
        for key, value in env.items():
            if secretish.search(key):
                assert REQUIRED_VAR.fullmatch(str(value)), (
                    f"{name}.{key} is not a required variable"
                )
        for value in _all_strings(env):
            if "://" in value and "@" in value:
                assert REQUIRED_VAR.search(value), f"{name}: credentials in URL {value!r}"


def test_mosquitto_requires_authentication_and_acls():
    conf = (REPO / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    assert re.search(r"^allow_anonymous false$", conf, re.M)
    assert re.search(r"^acl_file ", conf, re.M)
    acl = (REPO / "deploy" / "mosquitto" / "acl").read_text()
    assert "pattern write werkplek/v1/+/%u/presence" in acl
    # Every topic a service publishes must be writable for its broker user.
    gateway = acl.split("user gateway", 1)[1].split("\nuser ", 1)[0]
    for topic in ("+/_space/#", "+/_health/#", "_gateway/#"):
        assert f"topic write werkplek/v1/{topic}" in gateway, topic
    backend = acl.split("user backend", 1)[1].split("\nuser ", 1)[0]
    for topic in ("+/_registry/#", "+/+/config", "+/_zone/#"):
        assert f"topic write werkplek/v1/{topic}" in backend, topic
