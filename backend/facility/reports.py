"""Reports as the API and the benchmark run them: store aggregation, then pure figures.

Kept apart from the router so the benchmark times exactly what a request does
(minus HTTP), and apart from :mod:`service` so the figures stay free of I/O.
"""

from __future__ import annotations

from backend.facility import service
from backend.facility.sources import HistorySource


def utilisation(
    source: HistorySource,
    start_ms: int,
    end_ms: int,
    level: str,
    min_group: int,
) -> list[service.UtilisationRow]:
    """The utilisation report: opening-time sums per group added up by the store.

    Opening hours and holidays are already in the rollup (per day, per site), so
    the store returns one row per group and the rest is a few additions. The
    peak is a second small aggregation: the highest of the rollup's daily peaks.
    """
    totals = source.group_totals(start_ms, end_ms)
    peaks = source.peaks(start_ms, end_ms, level)
    return service.utilisation(totals, level, min_group=min_group, peaks=peaks)
