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

    ``shape`` places a service topic under a site: the levels after
    ``werkplek/v1/<site>/``, the first a fixed word starting with ``_``
    (``("_space", "{space_id}", "state")``). A level ``{name}`` is an id: the
    parsed :class:`~contract.topics.Route` carries it (``device_id`` and
    ``space_id`` as fields, other names in ``Route.ids``), checked by
    ``checks[name]`` (default: a contract id for ``device_id``, a space id for
    ``space_id``, any level usable in a topic otherwise). Device kinds and the
    ``_gateway`` kinds have no shape here (theirs is fixed in :mod:`contract.topics`).
    """

    name: str
    direction: str
    shape: tuple[str, ...] = ()
    checks: tuple[tuple[str, Callable[[str], bool]], ...] = ()

    @property
    def level(self) -> str | None:
        """The fixed level right after the site (``_space``), or None."""
        return self.shape[0] if self.shape else None


#: Every registered kind by name.
KINDS: dict[str, Kind] = {}
#: Site-level service topics by their first level (``_registry``, ``_space``, ...).
SITE_LEVELS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind; a name or topic level already taken by another kind is refused.

    Raises:
        ValueError: the name or the level is taken, or the shape does not start
            with a fixed ``_`` level.
    """
    known = KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"message kind {kind.name!r} is registered twice")
    level = kind.level
    if level is not None:
        if not level.startswith("_") or "{" in level:
            raise ValueError(f"a site-level topic starts with a fixed '_' level, not {level!r}")
        other = SITE_LEVELS.get(level)
        if other is not None and other.name != kind.name:
            raise ValueError(f"topic level {level!r} already belongs to {other.name!r}")
        SITE_LEVELS[level] = kind
    KINDS[kind.name] = kind
    return kind
