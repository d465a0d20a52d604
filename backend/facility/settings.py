"""Settings of the facility reports and jobs, part of the backend's settings.

:class:`FacilitySettings` adds the reports' own knobs (privacy floor, cleaning,
rollup interval, energy assumptions) to the shared, validated
:class:`~history.settings.HistorySettings`; the backend's ``Settings`` is built
on it, so ``create_app(settings)`` decides where the reports read history and
code is handed the settings of its app (``request.app.state.runtime.settings``,
:data:`backend.facility.deps.ConfigDep`). There is no process-wide copy: two
apps in one process keep their own privacy floor and history store.
"""

from __future__ import annotations

from pydantic import Field

from history.settings import HistorySettings


class FacilitySettings(HistorySettings):
    """Where the history is, the privacy floor, and the assumptions behind the figures."""

    facility_min_group: int = Field(default=5, ge=2)
    cleaning_min_minutes: float = Field(default=15.0, ge=0)
    #: A meeting room goes on the list after each use at least this long.
    cleaning_room_min_minutes: float = Field(default=10.0, ge=0)
    #: How often the daily rollup re-runs (0 = never; then POST /facility/rollup).
    facility_rollup_every_s: float = Field(default=3600.0, ge=0)
    #: Wait before the first rollup after start, so short-lived processes never run it.
    facility_rollup_delay_s: float = Field(default=30.0, ge=0)
    #: Energy assumptions (shown with every energy figure).
    energy_kw_per_zone: float = Field(default=4.0, gt=0)
    energy_setback_saving: float = Field(default=0.6, gt=0, le=1)
    energy_setback_below: float = Field(default=0.05, ge=0, le=1)
    energy_history_weeks: int = Field(default=8, ge=1, le=52)
    #: HVAC zone commands are only logged (dry run) unless this is true.
    hvac_publish: bool = False
