"""Property-based check of the whole API with Schemathesis against a running backend.

Every operation of the OpenAPI document gets generated requests (boundary values,
NUL characters, huge numbers, dates at year 1 and 9999, garbage bodies) as an
admin and as an employee, on PostgreSQL. Passing means: no 500 at all, and every
status code and content type answered is one the document declares.

Bounded in time: a few examples per operation and a time budget per run, the two
runs side by side; well under two minutes on a busy 2-core machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.backend.conftest import LiveServer, Person, SeededDb

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

CHECKS = "no_internal_error,status_code_conformance,content_type_conformance"
REPO = Path(__file__).resolve().parents[2]


def _run(base_url: str, token: str, seed: int, workdir: Path) -> subprocess.Popen[str]:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.backend.schemathesis_hooks"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    command = [
        str(schemathesis), "run", f"{base_url}/openapi.json",
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", "4",
        "--max-time", "50",
        "--generation-allow-x00", "true",
        "--seed", str(seed),
        "--no-shrink",
        "--generation-database", "none",
        "--request-timeout", "20",
        "--header", f"Authorization: Bearer {token}",
        # Logging out would end the employee's session for the rest of the run.
        "--exclude-path", "/api/v1/auth/logout",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.slow
def test_api_answers_only_documented_statuses_and_never_500(
    seeded: SeededDb,
    serve: Callable[..., LiveServer],
    people: Callable[..., Person],
    tmp_path: Path,
) -> None:
    employee = people("employee", "fuzz-employee")
    server = serve(seeded.settings())
    runs = {
        # Run outside the repository: Schemathesis keeps a cache folder where it runs.
        "admin": _run(server.base_url, seeded.admin_token, 1, tmp_path),
        "employee": _run(server.base_url, employee.token, 2, tmp_path),
    }
    failed = []
    for who, run in runs.items():
        output, _ = run.communicate(timeout=240)
        if run.returncode != 0:
            failed.append(f"--- as {who} (exit {run.returncode}) ---\n{output[-12000:]}")
        tested = re.search(r"Tested: (\d+)", output)
        # A run that tested nothing (schema not loaded, all skipped) must not pass.
        assert tested and int(tested.group(1)) >= 50, f"as {who}:\n{output[-3000:]}"
    assert not failed, "\n".join(failed)
