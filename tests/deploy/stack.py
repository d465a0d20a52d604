"""The deployed stack of docs/operations.md, on private ports: the pieces test_smoke.py runs.

The package is built as a wheel and installed into a fresh virtualenv (never
editable); the gateway and the backend run as processes of that install,
configured only through ``WERKPLEK_*`` variables. Mosquitto runs the project's
own deploy/mosquitto config (listeners moved to free ports, paths to a temporary
folder), InfluxDB has authentication on, PostgreSQL's database belongs to a
non-superuser.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.services import ConfiguredMosquitto, InfluxDB, ServiceError, make_tempdir

REPO = Path(__file__).resolve().parents[2]
#: Names the folder all workers of one test run share (set by tests/conftest.py).
SHARED_DIR_VAR = "PYTEST_WERKPLEK_SHARED_DIR"


class StepLog:
    """Prints each step with the seconds since the start, so a slow step shows in the log."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.steps: list[tuple[float, str]] = []

    def __call__(self, what: str) -> None:
        """Log one finished step."""
        at = time.monotonic() - self.start
        self.steps.append((at, what))
        print(f"[smoke {at:6.1f} s] {what}", flush=True)


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise ServiceError(f"{' '.join(map(str, args))[:200]} failed:\n{done.stderr[-3000:]}")
    return done  # type: ignore[no-any-return]


def copy_source(source: Path) -> Path:
    """Copy the tracked and new (not ignored) files of the checkout to ``source``.

    pip builds a local project in place, in its ``build/`` folder: two builds of the
    checkout at once (the smoke test and the wheel test on two workers) trip over each
    other's files there, so every build works on its own copy.
    """
    files = _run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO).stdout.split("\n")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    return source


def install_package(work: Path) -> Path:
    """Build the wheel from a copy of the source tree and install it into a fresh venv.

    Returns the venv's bin folder. The constraints file pins the dependencies,
    as for a production install. The build and pip see an operator's environment:
    no ``WERKPLEK_*``, ``PYTHON*`` or virtualenv variables from the tests.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WERKPLEK_", "PYTHON", "VIRTUAL_ENV"))
    }
    source = copy_source(work / "src")
    dist = work / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)],
         env=env)  # fmt: skip
    wheel = next(dist.glob("werkplek-*.whl"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    constraints = REPO / "constraints.txt"
    args = [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-compile",
            "--disable-pip-version-check", str(wheel)]  # fmt: skip
    if constraints.is_file():
        args += ["-c", str(constraints)]
    _run(args, env=env)
    return bin_dir


def shared_install() -> tuple[Path, Path]:
    """The wheel and bin folder of the one install every test of this run shares.

    The wheel test and the smoke test both need the package as an operator installs
    it; building and installing it takes most of a minute of CPU, so the first test
    to ask builds it (under a lock, in the run's shared folder that
    ``tests/conftest.py`` makes) and the others, on any worker, wait for it and use
    it. The tests only run the install, never change it.
    """
    root = Path(os.environ.get(SHARED_DIR_VAR) or make_tempdir("run")) / "wheel"
    root.mkdir(parents=True, exist_ok=True)
    done = root / "installed"
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(root / "src", ignore_errors=True)
            shutil.rmtree(root / "dist", ignore_errors=True)
            shutil.rmtree(root / "venv", ignore_errors=True)
            install_package(root)
            done.write_text("ok\n")
    return next((root / "dist").glob("werkplek-*.whl")), root / "venv" / "bin"


@dataclass
class AuthInflux(InfluxDB):
    """The test InfluxDB with authentication on; restartable (the admin exists by then)."""

    started_once: bool = False

    def _write_config(self) -> Path:
        conf = super()._write_config()
        conf.write_text(conf.read_text().replace("auth-enabled = false", "auth-enabled = true"))
        return conf

    def start(self) -> None:
        """First start: create the admin. Later: only start (the user is kept on disk)."""
        if not self.started_once:
            super().start()
            self.started_once = True
            return
        admin, self.admin = self.admin, None
        try:
            super().start()
        finally:
            self.admin = admin

    def query_as(self, user: str, password: str, q: str, db: str = "werkplek") -> dict[str, Any]:
        """Run InfluxQL with a user's credentials; the decoded answer."""
        answer = httpx.post(
            f"{self.url}/query", data={"q": q, "db": db}, auth=(user, password), timeout=10
        )
        result: dict[str, Any] = answer.json()
        return result


def project_broker(accounts: dict[str, dict[str, str]], acl_devices: str) -> ConfiguredMosquitto:
    """Mosquitto with deploy/mosquitto: its listeners, account files and ACLs."""
    shipped = REPO / "deploy/mosquitto"
    return ConfiguredMosquitto(
        workdir=make_tempdir("smoke-mqtt"),
        config_file=shipped / "mosquitto.conf",
        passwords=accounts,
        files={"acl-services": (shipped / "acl-services").read_text(), "acl-devices": acl_devices},
    )


@dataclass
class Service:
    """One process of the installed package (``werkplek gateway`` / ``werkplek backend``)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start with only the given environment (plus PATH)."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.log_path.parent
        )
        log.close()

    def stop(self) -> None:
        """SIGTERM, as a container stop does; then wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def alive(self) -> bool:
        """Still running."""
        return self.proc is not None and self.proc.poll() is None

    def tail(self) -> str:
        """The end of its log, for a failure message."""
        return self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
