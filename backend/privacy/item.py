"""One entry of the data inventory (``backend.privacy.inventory``) and the legal bases it cites."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Where an item lives; ``table`` items are checked against the SQLAlchemy models.
STORES = ("table", "influxdb", "gateway", "broker", "memory", "log")


@dataclass(frozen=True, slots=True)
class Item:
    """One kind of record: where it lives, what in it is personal, why and how long."""

    name: str
    store: str
    what: str
    purpose: str
    basis: str
    who: str
    kept: str
    deleted_by: str
    #: Columns or fields that point at a person (an id, a name, an address).
    personal: tuple[str, ...] = ()
    #: Every other column or field (tables: together with ``personal`` all columns).
    other: tuple[str, ...] = field(default=())

    @property
    def is_personal(self) -> bool:
        """True when any field links the record to a person."""
        return bool(self.personal)

    def as_dict(self) -> dict[str, Any]:
        """The item as plain JSON types (for the report)."""
        body = asdict(self)
        body["personal"] = list(self.personal)
        body["other"] = list(self.other)
        return body


#: Legal bases and periods the entries share.
TASK = "AVG art. 6(1)(e): managing the municipality's buildings"
EMPLOY = "AVG art. 6(1)(b)/(e): the employment and the workplace it provides"
DUTY = "AVG art. 6(1)(c)/(e): accountability for changes (art. 5(2), 32)"
SECURITY = "AVG art. 6(1)(e)/(f): security of the service (art. 32)"
RETENTION = "`WERKPLEK_RETENTION_DAYS` (30)"
