"""Werkplek backend: registry of places, live availability, JSON API, SSE and signage."""
