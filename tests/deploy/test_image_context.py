"""No Docker engine here, so the image's inputs are checked as files: no secrets go in."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()
IGNORE = [
    line.strip()
    for line in (REPO / ".dockerignore").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]


def ignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins, ``!`` re-includes."""
    result = False
    for pattern in IGNORE:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        bare = pattern.removeprefix("**/")
        if (
            fnmatch.fnmatch(path, pattern)
            or path.startswith(pattern + "/")
            or fnmatch.fnmatch(Path(path).name, bare)
        ):
            result = not negate
    return result


def test_secrets_state_and_test_data_stay_out_of_the_build_context():
    for path in (
        ".env", ".env.production", "firmware/devices/example.json", "firmware/devices/d-1.json",
        "firmware/config_local.py", "deploy/mosquitto/passwd", "deploy/pki/ca.key",
        "certs/broker.pem", "var/history.sqlite3", "tests/contracts/v1/valid.json", ".git/config",
    ):  # fmt: skip
        assert ignored(path), path
    for path in ("pyproject.toml", "werkplek/cli.py", "firmware/node.py", "constraints.txt",
                 "dashboards/app/index.html", ".env.example", "LICENSE"):  # fmt: skip
        assert not ignored(path), path


def test_the_image_installs_the_wheel_with_the_constraints_and_copies_no_device_files():
    copies = re.findall(r"^COPY (.+)$", DOCKERFILE, re.M)
    assert not [c for c in copies if re.search(r"(^|\s)(firmware|tests)(/)?\s", c + " ")]
    assert "firmware/*.py ./firmware/" in copies
    assert re.search(
        r"pip install .*-c /tmp/constraints\.txt /tmp/dist/werkplek-\*\.whl", DOCKERFILE
    )
    assert re.search(r"^USER werkplek$", DOCKERFILE, re.M)
