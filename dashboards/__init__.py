"""The web pages the backend serves (signage, booking app, facility) and Grafana's files.

A package only so the pages travel inside the wheel as package data and are found
with :mod:`importlib.resources` once installed; there is no Python code here.
"""
