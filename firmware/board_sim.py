"""Simulated presence input for the unix port and tests: a control file holding "1" or "0".

Why a file: a test (or a person) flips presence with ``echo 1 > file`` while the
unchanged node code polls it like a GPIO pin.
"""


class FilePresence:
    """Presence input whose ``value()`` reads a control file ("1" = presence).

    A missing or unreadable file reads as "no presence" (the file may be written
    non-atomically by the test); any other content than "1" also means no presence.
    """

    def __init__(self, path):
        self.path = path

    def value(self):
        """Return True when the control file currently holds "1"."""
        try:
            with open(self.path) as fh:
                return fh.read(8).strip() == "1"
        except OSError:
            return False
