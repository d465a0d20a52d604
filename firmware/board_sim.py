"""Simulated presence input for the unix port and tests: a control file holding "1" or "0".

Why a file: a test (or a person) flips presence with ``echo 1 > file`` while the
unchanged node code polls it like a GPIO pin. ``SimUART`` does the same for
the radar: the real LD2410 driver parses the frames it produces.
"""

import os

from wp_compat import ticks_diff, ticks_ms


class FilePresence:
    """Presence input whose ``value()`` reads a control file ("1" = presence).

    A missing or unreadable file reads as "no presence" (the file may be written
    non-atomically by the test); any other content than "1" also means no presence.
    Also serves as the simulated PIR pin (``pir.PIR`` reads its ``value()``).
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


class SimUART:
    """A simulated LD2410 on a UART: emits real report frames from a control file.

    The file holds ``<state> <moving cm> <moving energy> <still cm> <still energy>``
    (e.g. ``2 0 0 120 60`` for a still person at 1.2 m), ``garbage`` (random bytes
    and a cut frame) or nothing (no target). A missing file is an unplugged radar:
    no bytes at all. Commands written to it are answered with success ACKs, like
    the radar does. A frame is produced every ``period_ms`` (the radar sends ~10/s).
    """

    def __init__(self, path, period_ms=100):
        self.path = path
        self.period_ms = period_ms
        self.commands = []
        self._rx = b""
        self._last = None

    def any(self):
        """Return how many bytes wait; produces the next frame when one is due."""
        now = ticks_ms()
        if self._last is None or ticks_diff(now, self._last) >= self.period_ms:
            self._last = now
            self._rx += self._frame()
        return len(self._rx)

    def read(self, n=-1):
        """Return up to ``n`` waiting bytes, or None when there are none."""
        if not self._rx:
            return None
        if n < 0 or n > len(self._rx):
            n = len(self._rx)
        out, self._rx = self._rx[:n], self._rx[n:]
        return out

    def write(self, data):
        """Take a command frame and queue its success ACK."""
        data = bytes(data)
        word = data[6] | data[7] << 8
        self.commands.append(word)
        extra = b"\x01\x00\x40\x00" if word == 0x00FF else b""
        body = bytes([word & 0xFF, (word >> 8) | 0x01, 0, 0]) + extra
        self._rx += b"\xfd\xfc\xfb\xfa" + bytes([len(body), 0]) + body + b"\x04\x03\x02\x01"
        return len(data)

    def _frame(self):
        try:
            with open(self.path) as fh:
                text = fh.read(64).strip()
        except OSError:
            return b""
        if text == "garbage":
            return os.urandom(24) + _report(2, 0, 0, 100, 50)[:11]
        fields = [int(x) for x in text.split()] if text else [0, 0, 0, 0, 0]
        if len(fields) != 5:
            return b""
        return _report(*fields)


def _report(state, move_cm, move_e, still_cm, still_e):
    detect = max(move_cm, still_cm)
    body = bytes(
        [2, 0xAA, state, move_cm & 0xFF, move_cm >> 8, move_e, still_cm & 0xFF, still_cm >> 8]
        + [still_e, detect & 0xFF, detect >> 8, 0x55, 0]
    )
    return b"\xf4\xf3\xf2\xf1" + bytes([len(body), 0]) + body + b"\xf8\xf7\xf6\xf5"
