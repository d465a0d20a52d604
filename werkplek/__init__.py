"""Werkplek: occupancy sensing and desk/room booking for flexible offices."""

__version__ = "0.1.0"
