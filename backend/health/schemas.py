"""Response schemas of the sensor health API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Problem = Literal["offline", "stale", "low_battery", "weak_signal"]


class DeviceHealthPublic(BaseModel):
    """One sensor's health; unknown figures are null, never 0."""

    site: str
    device_id: str
    space_id: str | None = Field(description="assigned space; null = unassigned")
    last_seen: int | None = Field(description="gateway receive time of the last message, ms")
    online: bool | None
    rssi: int | None = Field(description="Wi-Fi signal in dBm; null without Wi-Fi")
    battery_v: float | None = Field(description="battery voltage; null on mains power")
    fw: str | None
    uptime_s: int | None
    heap_free: int | None = Field(description="free heap in bytes; null where unknown")
    msg_per_min: int
    messages: int
    errors: int
    last_error: str | None
    stale_after_s: float = Field(description="silence after which this sensor counts as stale")
    problems: list[Problem] = Field(description="every problem, most severe first")
    problem: Problem | None = Field(description="the most severe problem; null = healthy")
    problem_nl: str | None
    problem_en: str | None


class HealthReportPublic(BaseModel):
    """The health of every sensor of a site (or of all sites)."""

    site: str | None
    generated: int = Field(description="time of this report, unix ms")
    devices: list[DeviceHealthPublic]
    problem_counts: dict[str, int] = Field(description="sensors per most severe problem")
