"""The rollup job inside the backend: catch up at start, then re-roll every interval.

It runs as part of the facility router's lifespan, so every backend process that
serves the reports keeps the rollup current; rewriting a day is idempotent, so
two replicas doing it at once write the same rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from fastapi import FastAPI

from backend.facility import rollup
from backend.facility.opening import site_openings, zones_in_use
from backend.facility.settings import FacilitySettings
from history.errors import HistoryUnavailable
from history.facility import open_source

log = logging.getLogger(__name__)


def run_once(app: FastAPI, cfg: FacilitySettings) -> int:
    """Catch up the rollup with the sites' current opening hours; returns days rolled."""
    with app.state.runtime.session_factory() as session:
        openings = site_openings(session)
    # The newest "today" of all sites' zones: a site further west rolls its day
    # early (partly empty) and again on the next runs, as for late points.
    today = max(datetime.now(tz).date() for tz in zones_in_use(openings))
    source = open_source(cfg)
    try:
        return rollup.catch_up(source, today, openings)
    finally:
        source.close()


async def _loop(app: FastAPI, cfg: FacilitySettings) -> None:
    await asyncio.sleep(cfg.facility_rollup_delay_s)
    while True:
        try:
            await asyncio.to_thread(run_once, app, cfg)
        except HistoryUnavailable as exc:  # no history yet, or the store is down: try later
            log.warning("facility rollup skipped: %s", exc)
        except Exception:  # a bug must not stop the next run
            log.exception("facility rollup failed")
        await asyncio.sleep(cfg.facility_rollup_every_s)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run the rollup loop for as long as the app runs (when an interval is set)."""
    cfg: FacilitySettings = app.state.runtime.settings
    task = None
    if cfg.facility_rollup_every_s > 0:
        task = asyncio.create_task(_loop(app, cfg), name="werkplek-facility-rollup")
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
