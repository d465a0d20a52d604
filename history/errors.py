"""Exceptions raised by the history stores and readers (gateway and backend alike).

The tree::

    HistoryError
    ├── HistoryUnavailable  the store cannot be reached or refused for now;
    │                       a writer keeps the points and retries, a report answers 503
    └── HistoryRejected     the store refused the points themselves; retrying
                            cannot help, so the batch is dropped and counted
"""

from __future__ import annotations


class HistoryError(Exception):
    """Base class of history store failures."""


class HistoryUnavailable(HistoryError):
    """The history store is down or refused the request for now; retry later."""


class HistoryRejected(HistoryError):
    """The history store refused the data itself (e.g. a field type conflict)."""
