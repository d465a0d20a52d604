"""Tables of the registry: site, floor, its drawing, space and device."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.clock import utcnow as utcnow  # the column default; other models import it here
from backend.database import Base


class Site(Base):
    """A location of the municipality: the city hall, a district office, a service point."""

    __tablename__ = "site"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    address: Mapped[str | None] = mapped_column(String(200), default=None)
    city: Mapped[str | None] = mapped_column(String(100), default=None)
    #: WGS84 position, for "nearest site with a free desk".
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Floor(Base):
    """One floor of a site with the size of its plan (in plan units)."""

    __tablename__ = "floor"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)
    plan_width: Mapped[float] = mapped_column(Float)
    plan_height: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Space(Base):
    """A desk or room, drawn on its floor plan as the rectangle x, y, w, h."""

    __tablename__ = "space"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("site.id"), index=True)
    floor_id: Mapped[str] = mapped_column(ForeignKey("floor.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    zone: Mapped[str | None] = mapped_column(String(63), default=None)
    quiet: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    standing: Mapped[bool] = mapped_column(Boolean, default=False)
    screen: Mapped[bool] = mapped_column(Boolean, default=False)
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    w: Mapped[float] = mapped_column(Float)
    h: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Last edit through the API (null: unchanged since created); screens reload on it.
    updated_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None, onupdate=utcnow
    )


class FloorDrawing(Base):
    """The drawing under a floor's spaces: walls, rooms, corridors and landmarks.

    ``features`` is the validated, normalised GeoJSON feature list in plan units
    (``backend/spaces/drawing.py``); one drawing per floor, replaced as a whole.
    """

    __tablename__ = "floor_drawing"

    floor_id: Mapped[str] = mapped_column(
        ForeignKey("floor.id", ondelete="CASCADE"), primary_key=True
    )
    features: Mapped[str] = mapped_column(Text)
    feature_count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Device(Base):
    """A sensor node; ``space_id`` is null while it is not assigned to a space."""

    __tablename__ = "device"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("site.id"), index=True)
    space_id: Mapped[str | None] = mapped_column(
        ForeignKey("space.id", ondelete="SET NULL"), index=True, default=None
    )
    source: Mapped[str] = mapped_column(String(10))
    heartbeat_s: Mapped[int] = mapped_column(Integer, default=60)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
