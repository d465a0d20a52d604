"""The built wheel, installed as the Dockerfile installs it, serves every page from anywhere.

One wheel and one virtualenv per session: ``pip wheel --no-deps``, then a real
install with ``constraints.txt`` (no editable install, no borrowing this
venv's site-packages). The backend runs from an empty temp folder with only
documented ``WERKPLEK_*`` variables, so nothing can come from the checkout.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.deploy.stack import shared_install
from tests.services import free_port, wait_until

# One worker runs these three (make test runs --dist loadgroup); the install is shared.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("wheel")]

REPO = Path(__file__).resolve().parents[2]
PAGES = ("/signage/", "/app/", "/facility/", "/signage/room.html", "/app/qr.html")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of an operator's shell: no WERKPLEK_* or PYTHONPATH from the tests."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WERKPLEK_", "PYTHON", "VIRTUAL_ENV"))
    }
    return {**env, **extra}


def run(command: list[str], cwd: Path, timeout: float = 900) -> None:
    result = subprocess.run(
        command, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]} {result.stderr[-3000:]}"


@pytest.fixture(scope="session")
def installed() -> Installed:
    wheel, bin_dir = shared_install()  # built once per run, shared with the smoke test
    return Installed(wheel=wheel, bin=bin_dir)


def test_the_wheel_holds_the_runtime_files_and_no_tests_or_secrets(installed):
    names = zipfile.ZipFile(installed.wheel).namelist()
    for needed in (
        "dashboards/signage/index.html", "dashboards/signage/room.html",
        "dashboards/app/index.html", "dashboards/app/app.js", "dashboards/facility/index.html",
        "dashboards/shared/client.js",
        "firmware/node.py", "firmware/main.py", "backend/migrations/script.py.mako",
        "backend/migrations/env.py", "backend/migrations/versions/0001_initial.py",
    ):  # fmt: skip
        assert needed in names, needed
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    forbidden = [
        n for n in names
        if n.startswith(("tests/", "bench/", "deploy/", "firmware/devices/"))
        or n.endswith((".pem", ".key", ".env", "passwd", "config_local.py"))
        or "/.env" in n
    ]  # fmt: skip
    assert forbidden == []


def test_the_installed_backend_serves_every_page_from_an_empty_folder(
    installed, tmp_path, mosquitto
):
    port = free_port()
    env = clean_env(
        WERKPLEK_DATABASE_URL=f"sqlite:///{tmp_path / 'werkplek.sqlite3'}",
        WERKPLEK_MQTT_URL=mosquitto.url,
        WERKPLEK_HTTP_PORT=str(port),
        WERKPLEK_LOG_FORMAT="json",
    )
    proc = subprocess.Popen(
        [str(installed.bin / "werkplek"), "backend"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return proc.poll() is not None  # died: stop waiting, the asserts say why

        wait_until(up, 60, interval=0.2, what="installed backend answering /healthz")
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        for page in PAGES:
            response = httpx.get(base + page, timeout=10)
            assert response.status_code == 200, (page, response.text[:300])
            assert response.headers["content-type"].startswith("text/html"), page
        for path in ("/app/app.js", "/shared/client.js"):  # the shared client every page loads
            script = httpx.get(base + path, timeout=10)
            assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        health = httpx.get(f"{base}/healthz", timeout=10).json()
        # Not configured: facility history is reported, never silently assumed.
        assert health["history"]["configured"] is False
        assert any(p.startswith("history: not configured") for p in health["problems"])
        check = subprocess.run(
            [str(installed.bin / "werkplek"), "healthcheck", "backend"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert check.returncode == 0, check.stderr
        assert "history store unreachable" in check.stderr  # a warning, not a failure
    finally:
        proc.terminate()
        proc.wait(20)
    assert not (tmp_path / "dashboards").exists()
    assert str(REPO) not in (proc.stdout.read() if proc.stdout else "")


def test_firmware_commands_without_the_extra_say_what_to_install(installed, tmp_path):
    for action in ("build", "typecheck"):
        result = subprocess.run(
            [str(installed.bin / "werkplek"), "firmware", action, "--out", str(tmp_path / "img")],
            cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 2, (action, result.stderr)
        assert "pip install 'werkplek[firmware]'" in result.stderr, (action, result.stderr)
        assert "Traceback" not in result.stderr
