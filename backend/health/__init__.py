"""Sensor health: the gateway's retained ``_health`` records, served to facility management."""
