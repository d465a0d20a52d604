"""Plumbing shared by every service and the command.

Logging, broker addresses and TLS, packaged files.

It sits below ``contract``, ``gateway``, ``backend`` and ``werkplek`` and imports none
of them, so any part can use it without pulling another service in.
"""
