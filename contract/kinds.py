"""The message kinds of contract v1 and where their topics sit, in one table.

Each kind module registers itself here (``register``), so topic routing
(:func:`contract.topics.parse_topic`) and the golden-file tests know every kind
without a list kept by hand. A new kind (HVAC commands, site-bridge state) adds
a module that calls :func:`register` and a golden file ``tests/contracts/v1/<name>.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Kind:
    """One message kind.

    ``level`` places a service topic under a site: ``werkplek/v1/<site>/<level>/<id>``
    plus ``leaf`` when set (``_space`` + ``state``). Device kinds and the
    ``_gateway`` kinds have no level (their shape is fixed in :mod:`contract.topics`).
    ``id_field`` names the :class:`~contract.topics.Route` field the ``<id>`` level fills.
    """

    name: str
    direction: str
    level: str | None = None
    leaf: str | None = None
    id_field: str = "key"
    id_check: Callable[[str], bool] | None = None


#: Every registered kind by name.
KINDS: dict[str, Kind] = {}
#: Site-level service topics by their level (``_registry``, ``_space``, ...).
SITE_LEVELS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind; a name or topic level already taken by another kind is refused.

    Raises:
        ValueError: the name or the level is taken.
    """
    known = KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"message kind {kind.name!r} is registered twice")
    if kind.level is not None:
        other = SITE_LEVELS.get(kind.level)
        if other is not None and other.name != kind.name:
            raise ValueError(f"topic level {kind.level!r} already belongs to {other.name!r}")
        SITE_LEVELS[kind.level] = kind
    KINDS[kind.name] = kind
    return kind
