"""docker-compose.yml is for users (no Docker engine here), so it is checked by parsing."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic_settings import BaseSettings

from tests.services import require_binary

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
    assert tag != "latest" and re.match(r"^v?\d+\.\d+", tag), (
        f"{name}: tag {tag!r} is not a version"
    )


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


def _listener_blocks(conf: str) -> dict[int, str]:
    """Each listener's settings: from its ``listener`` line to the next blank line."""
    blocks = {}
    for block in conf.split("\n\n"):
        found = re.search(r"^listener (\d+)", block, re.M)
        if found:
            blocks[int(found.group(1))] = block[found.start() :]
    return blocks


def test_mosquitto_requires_authentication_and_acls():
    conf = (REPO / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    # Per-listener settings: the sensors' and the services' accounts never mix.
    assert re.search(r"^per_listener_settings true$", conf, re.M)
    listeners = _listener_blocks(conf)
    assert {1883, 1884} <= set(listeners)
    for port, block in listeners.items():
        assert re.search(r"^allow_anonymous false$", block, re.M), port
        assert re.search(r"^password_file ", block, re.M), port
        assert re.search(r"^acl_file ", block, re.M), port
        # A device listener binds the client id to the username (no takeover).
        if "passwd-services" not in block:
            assert re.search(r"^use_username_as_clientid true$", block, re.M), port
    assert "passwd-services" in listeners[1884] and "acl-services" in listeners[1884]
    assert re.search(r"^message_size_limit \d+$", conf, re.M)
    acl = (REPO / "deploy" / "mosquitto" / "acl-services").read_text()
    assert "pattern" not in acl  # device rights come from the generated, site-bound ACL
    # Every topic a service publishes must be writable for its broker user.
    gateway = acl.split("user gateway", 1)[1].split("\nuser ", 1)[0]
    for topic in ("+/_space/#", "+/_health/#", "_gateway/#"):
        assert f"topic write werkplek/v1/{topic}" in gateway, topic
    backend = acl.split("user backend", 1)[1].split("\nuser ", 1)[0]
    for topic in ("+/_registry/#", "+/+/config", "+/_zone/#"):
        assert f"topic write werkplek/v1/{topic}" in backend, topic
    # The services reach the broker on their own listener.
    for name in ("gateway", "backend"):
        assert "@mosquitto:1884" in SERVICES[name]["environment"]["WERKPLEK_MQTT_URL"], name


# --- the file matches the Compose Specification and the Compose version the docs name ---


def _compose_schema() -> dict[str, Any]:
    # check-jsonschema (a dev dependency) vendors the Compose Specification's JSON schema
    # (Apache-2.0, from the compose-spec project) with its licence beside it.
    vendor = files("check_jsonschema.builtin_schemas.vendor")
    assert "Apache License" in vendor.joinpath("licenses/LICENSE.compose-spec").read_text()
    schema: dict[str, Any] = json.loads(vendor.joinpath("compose-spec.json").read_text())
    return schema


def test_the_file_is_valid_against_the_compose_specification_schema():
    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(COMPOSE)]
    assert not errors, "\n".join(errors)
    # The schema does reject a broken file (the check can fail).
    broken = {**COMPOSE, "services": {"x": {"image": "a:1", "restart": 3}}}
    assert list(validator.iter_errors(broken))


def _example_env(tmp_path: Path) -> Path:
    """.env.example with every empty value filled, as an operator's .env would be."""
    lines = []
    for line in (REPO / ".env.example").read_text().splitlines():
        if re.match(r"^[A-Z0-9_]+=$", line):
            line += "filled-in-" + line[:-1].lower()
        lines.append(line)
    env = tmp_path / ".env"
    env.write_text("\n".join(lines) + "\n")
    return env


def test_debian_docker_compose_1_29_accepts_the_file(tmp_path):
    binary = require_binary("docker-compose", "/usr/bin/docker-compose")
    args = [binary, "--env-file", str(_example_env(tmp_path)), "-f", "docker-compose.yml"]
    version = subprocess.run(
        [binary, "version", "--short"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("1.29."), version.stdout  # the version docs name
    done = subprocess.run(
        [*args, "config", "-q"], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    # Without the .env the required variables stop it (the check can fail).
    empty = tmp_path / "empty.env"
    empty.write_text("")
    bare = subprocess.run(
        [binary, "--env-file", str(empty), "-f", "docker-compose.yml", "config", "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert bare.returncode != 0 and "Missing mandatory value" in bare.stderr


# --- environment variables against the settings classes ---


def _settings_classes() -> list[type[BaseSettings]]:
    """Every settings class in the services' packages (found in the source, so new ones count)."""
    found: list[type[BaseSettings]] = []
    for package in ("backend", "gateway", "history", "werkplek"):
        for source in sorted((REPO / package).rglob("*.py")):
            if "Settings):" not in source.read_text():  # BaseSettings or a settings class
                continue
            module = importlib.import_module(
                ".".join(source.relative_to(REPO).with_suffix("").parts)
            )
            found += [
                cls
                for cls in vars(module).values()
                if isinstance(cls, type)
                and issubclass(cls, BaseSettings)
                and cls is not BaseSettings
                and cls.__module__ == module.__name__
            ]
    return found


def _setting_names() -> set[str]:
    names = set()
    for cls in _settings_classes():
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        names |= {prefix + name.upper() for name in cls.model_fields}
    return names


def test_the_settings_classes_are_found():
    names = {cls.__name__ for cls in _settings_classes()}
    assert {"GatewaySettings", "Settings", "FacilitySettings", "DemoSettings"} <= names


def test_every_werkplek_variable_in_compose_and_env_example_is_a_setting():
    known = _setting_names()
    text = (REPO / "docker-compose.yml").read_text() + (REPO / ".env.example").read_text()
    used = set(re.findall(r"\b(WERKPLEK_[A-Z0-9_]+)\b", text))
    assert used
    unknown = sorted(used - known)
    assert not unknown, f"not read by any settings class (typo, or a removed setting): {unknown}"


def _interpolated(env: dict[str, Any]) -> dict[str, str]:
    """A service's environment with every ${VAR:?...} replaced by a sample value."""
    return {
        key: ANY_VAR.sub(lambda m: f"sample-{m.group(1).lower()}", str(value))
        for key, value in env.items()
    }


def _service_settings(cls: type[BaseSettings], service: str) -> BaseSettings:
    env = _interpolated(SERVICES[service]["environment"])
    prefix = str(cls.model_config.get("env_prefix", ""))
    given = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
    fields = cls.model_fields
    required = {name for name, field in fields.items() if field.is_required()}
    assert required <= set(given), (
        f"{service}: required settings not given: {required - set(given)}"
    )
    return cls(**{k: v for k, v in given.items() if k in fields})


def test_the_gateway_service_s_environment_is_valid_gateway_settings():
    from gateway.settings import GatewaySettings

    settings = _service_settings(GatewaySettings, "gateway")
    assert isinstance(settings, GatewaySettings)
    # What production needs beyond the defaults: the broker, InfluxDB, a persistent state dir.
    assert settings.broker.host == "mosquitto"
    assert settings.influx_url == "http://influxdb:8086"
    assert str(settings.state_dir) in {v.split(":")[1] for v in SERVICES["gateway"]["volumes"]}
    assert settings.metrics_port is not None


def test_the_backend_service_s_environment_is_valid_backend_settings():
    from backend.config import Settings

    settings = _service_settings(Settings, "backend")
    assert isinstance(settings, Settings)
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.mqtt_enabled and "@mosquitto:1884" in settings.mqtt_url
    assert settings.http_host == "0.0.0.0"  # reachable from the other containers
