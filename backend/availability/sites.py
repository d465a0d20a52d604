"""Link state of satellite sites whose own broker is bridged to the central one.

A site with its own broker (``werkplek site-bridge``) tells the centre through
Mosquitto's bridge notifications whether it is linked (``contract.bridge``):
``1`` when the bridge connects, ``0`` from its Last Will when the central broker
loses it. While a site's link is down the centre cannot see its sensors, so:

- every space of that site shows ``unknown`` with reason ``site_offline`` and
  ``since`` the moment the centre learned the link was lost, never ``free``
  (its last known state is kept for when the link returns);
- bookings made centrally for that site are refused (503 ``site_offline`` with
  ``Retry-After``): the centre cannot confirm the space is not in use, and the
  site's screens would not learn of the booking until the link is back. They are
  taken again as soon as the bridge says ``1``.

A site that never sent a bridge state (on the central network, or a bridge
without notifications) is not affected. Touched on the asyncio loop only; the
booking check reads one dict entry, which is safe from a worker thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from backend.availability.service import SpaceAvailability, SpaceInfo
from backend.errors import Unavailable
from contract.bridge import BridgeStateError, parse_bridge_state

log = logging.getLogger(__name__)

#: Reason of a space that is unknown because its site's link is down.
SITE_OFFLINE = "site_offline"
#: Unknown for a reason of the centre's own (broker lost, gateway dead): that reason stays.
CENTRAL_REASONS = ("disconnected", "gateway_offline")
#: Seconds a refused booking is told to wait before trying again.
RETRY_AFTER_S = 60


@dataclass(frozen=True, slots=True)
class SiteLink:
    """One site's link: ``linked`` False means down; ``changed_ms`` when that was learned."""

    site: str
    linked: bool
    changed_ms: int


class SiteOffline(Unavailable):
    """A booking for a site whose link to the centre is down."""

    reason = SITE_OFFLINE
    retry_after = RETRY_AFTER_S


class SiteLinks:
    """Latest bridge state per site and the rule it imposes on availability and bookings."""

    def __init__(self) -> None:
        self.links: dict[str, SiteLink] = {}
        self.rejected: Counter[str] = Counter()

    def handle_message(self, topic: str, payload: bytes, received_ms: int) -> str | None:
        """Apply one bridge-state message; return the site whose link changed, else None."""
        try:
            state = parse_bridge_state(topic, payload)
        except BridgeStateError as exc:
            self.rejected[exc.reason] += 1
            log.warning("bridge state rejected (%s) on %r: %s", exc.reason, topic, exc.detail)
            return None
        old = self.links.get(state.site)
        if state.linked is None:
            return state.site if self.links.pop(state.site, None) is not None else None
        if old is not None and old.linked == state.linked:
            return None
        self.links[state.site] = SiteLink(state.site, state.linked, received_ms)
        log.info("site %s: link %s", state.site, "up" if state.linked else "down")
        return state.site

    def down(self, site: str) -> SiteLink | None:
        """The site's link if it is down, else None."""
        link = self.links.get(site)
        return link if link is not None and not link.linked else None

    def overlay(self, item: SpaceAvailability) -> SpaceAvailability:
        """The space as the centre must show it: unknown while its site's link is down."""
        link = self.down(item.site) if self.links else None
        if link is None or item.reason in CENTRAL_REASONS:
            return item
        return dataclasses.replace(
            item, availability="unknown", reason=SITE_OFFLINE, since=link.changed_ms, until=None
        )

    def check_bookable(self, site: str, site_name: str | None = None) -> None:
        """Refuse a booking for a site whose link is down.

        Raises:
            SiteOffline: 503 with the time the link was lost and when to retry.
        """
        link = self.down(site)
        if link is not None:
            raise SiteOffline(
                f"location {site_name or site} cannot be reached from the central system "
                f"since {_utc(link.changed_ms)}: its availability is unknown and its screens "
                "would not show the booking, so it is not taken now; try again once the "
                "connection is back"
            )


def _utc(ms: int) -> str:
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


class _HubView(Protocol):
    """What :func:`check_space_bookable` needs of the availability hub."""

    spaces: dict[str, SpaceInfo]
    site_links: SiteLinks


def check_space_bookable(hub: _HubView, space_id: str) -> None:
    """Refuse a central booking of a space whose site's link is down (unknown ids pass on).

    Raises:
        SiteOffline: the space's site is cut off from the centre.
    """
    space = hub.spaces.get(space_id)
    if space is not None:
        hub.site_links.check_bookable(space.site)
