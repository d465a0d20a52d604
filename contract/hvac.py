"""The HVAC zone command: comfort or setback for one zone and one local day.

The backend decides, the building management system (BMS) acts::

    werkplek/v1/<site>/_zone/<floor>/<zone>/hvac     backend -> BMS, QoS 1, retained

One encoder (:func:`encode_hvac`) and one parser (:func:`parse_hvac`); the
payload is described in docs/hvac-contract.md and pinned by the golden file
``tests/contracts/v1/hvac.json``. Zone names come from the registry and may hold
capitals (``Stilte``), so the topic levels are only checked to be usable in a
topic: not empty, no ``/``, ``+`` or ``#``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contract.errors import ContractError
from contract.fields import check_size, dumps, field, load_object, one_of, same_as_topic
from contract.kinds import Kind, register
from contract.topics import PREFIX, expect, usable_level

#: Schema version of the payload (``v``); a consumer ignores versions it does not know.
HVAC_VERSION = 1
#: Topic level that marks a zone; a leading underscore is never a device id.
ZONE_LEVEL = "_zone"
#: Subscription of every zone's command (what a BMS subscribes to).
SUB_HVAC = f"{PREFIX}/+/{ZONE_LEVEL}/#"
MODES = ("comfort", "setback")
#: Why a zone gets its mode (docs/hvac-contract.md, table "Payload").
REASONS = ("bookings", "expected_use", "nobody_expected", "closed")
register(
    Kind("hvac", "backend -> BMS, QoS 1, retained", shape=(ZONE_LEVEL, "{floor}", "{zone}", "hvac"))
)

#: The payload's fields, in the order the encoder writes them.
FIELDS = (
    "v", "site", "floor", "zone", "mode", "reason",
    "valid_from", "valid_until", "issued_at", "dry_run",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class HvacCommand:
    """What one zone needs from ``valid_from`` to ``valid_until`` (aware datetimes)."""

    site: str
    floor: str
    zone: str
    mode: str
    reason: str
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    dry_run: bool

    @property
    def topic(self) -> str:
        """The retained topic of the command's zone."""
        return hvac_topic(self.site, self.floor, self.zone)


def hvac_topic(site: str, floor: str, zone: str) -> str:
    """``werkplek/v1/<site>/_zone/<floor>/<zone>/hvac``; ValueError for a level unusable there."""
    for part in (site, floor, zone):
        if not usable_level(part):
            raise ValueError(f"{part!r} cannot be part of an MQTT topic")
    return f"{PREFIX}/{site}/{ZONE_LEVEL}/{floor}/{zone}/hvac"


def command_for_day(
    site: str,
    floor: str,
    zone: str,
    *,
    mode: str,
    reason: str,
    day: date,
    tz: ZoneInfo,
    now: datetime,
    dry_run: bool,
) -> HvacCommand:
    """The command for the site's local ``day``: from its local midnight to the next one.

    ``tz`` is the site's own time zone, so a site abroad gets its own day.
    """
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = start + timedelta(days=1)  # wall-clock: the next local midnight, across DST too
    issued = now.astimezone(tz).replace(microsecond=0)
    return HvacCommand(site, floor, zone, mode, reason, start, end, issued, dry_run)


def encode_hvac(command: HvacCommand) -> bytes:
    """The retained JSON payload of a command (compact, fields in contract order)."""
    body: dict[str, Any] = {
        "v": HVAC_VERSION,
        "site": command.site,
        "floor": command.floor,
        "zone": command.zone,
        "mode": command.mode,
        "reason": command.reason,
        "valid_from": command.valid_from.isoformat(),
        "valid_until": command.valid_until.isoformat(),
        "issued_at": command.issued_at.isoformat(timespec="seconds"),
        "dry_run": command.dry_run,
    }
    return dumps(body)


def _topic_levels(topic: str) -> tuple[str, str, str]:
    """Site, floor and zone of an HVAC topic (``bad_topic`` when it is none)."""
    route = expect(topic, "hvac")
    site, floor, zone = route.site, route.id("floor"), route.id("zone")
    if site is None or floor is None or zone is None:  # the shape guarantees all three
        raise ContractError("bad_topic", "not an HVAC command topic")
    return site, floor, zone


def _moment(data: dict[str, Any], name: str) -> datetime:
    """An ISO 8601 time with a UTC offset (``bad_type`` otherwise)."""
    value = field(data, name, str)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ContractError("bad_type", f"{name!r}={value!r:.40} is not ISO 8601") from None
    if moment.utcoffset() is None:
        raise ContractError("bad_type", f"{name!r}={value!r:.40} has no UTC offset")
    return moment


def parse_hvac(topic: str, payload: bytes) -> HvacCommand:
    """Validate one HVAC command (topic and payload).

    Raises:
        ContractError: ``bad_topic``, ``too_large``, ``bad_json``, ``not_object``,
            ``bad_version``, ``missing_field``, ``bad_type``, ``out_of_range`` (a
            mode or reason outside the lists, a validity that ends before it
            starts) or ``mismatch`` (site, floor or zone differ from the topic).
    """
    site, floor, zone = _topic_levels(topic)
    check_size(payload)
    data = load_object(payload)
    for name, expected in (("site", site), ("floor", floor), ("zone", zone)):
        same_as_topic(data, name, expected, "mismatch")
    mode, reason = field(data, "mode", str), field(data, "reason", str)
    one_of("mode", mode, MODES)
    one_of("reason", reason, REASONS)
    start, end = _moment(data, "valid_from"), _moment(data, "valid_until")
    if end <= start:
        raise ContractError("out_of_range", "valid_until is not after valid_from")
    issued = _moment(data, "issued_at")
    dry_run = field(data, "dry_run", bool)
    return HvacCommand(site, floor, zone, mode, reason, start, end, issued, dry_run)
