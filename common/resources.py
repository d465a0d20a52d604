"""Where the files that ship with the package are: dashboards and firmware sources.

Both folders are installed as package data next to ``werkplek`` (see
``pyproject.toml``), so a ``pip install .`` in a container finds them exactly
as a checkout does; nothing is looked up relative to the current directory.
"""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path


class MissingResource(RuntimeError):
    """A folder that should ship with the package is not installed."""


def dashboards_dir() -> Path:
    """The ``dashboards`` folder (``signage/``, ``app/``, ``facility/``, ``shared/``) on disk.

    Found as a package; an editable install made before ``dashboards`` became
    one does not map it, so its place next to ``werkplek`` is the fallback.
    """
    try:
        candidates = [Path(str(resources.files("dashboards")))]
    except ModuleNotFoundError:
        candidates = []
    candidates.append(Path(__file__).resolve().parent.parent / "dashboards")
    for root in candidates:
        if (root / "signage" / "index.html").is_file():
            return root
    raise MissingResource("the dashboards are not installed; reinstall werkplek")


def firmware_dir() -> Path:
    """The node firmware's source folder on disk.

    The firmware has no ``__init__.py`` on purpose (the board image is every module
    in the folder), so it is installed as a namespace package next to ``werkplek``:
    its sibling in a checkout and in site-packages alike. The import spec is the
    fallback for an unusual layout.
    """
    sibling = Path(__file__).resolve().parent.parent / "firmware"
    candidates = [sibling]
    spec = importlib.util.find_spec("firmware")
    if spec is not None:
        candidates += [Path(p) for p in spec.submodule_search_locations or []]
    for candidate in candidates:
        if (candidate / "node.py").is_file():
            return candidate
    raise MissingResource("the firmware sources are not installed; reinstall werkplek")
