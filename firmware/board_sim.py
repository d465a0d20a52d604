"""Simulated inputs for the unix port and tests: control files a test (or a person) writes.

Why a file: a test flips presence with ``echo 1 > file`` while the unchanged
node code polls it like a GPIO pin; ``SimUART`` does the same for the radar: the
real LD2410 driver parses the frames it produces.

One class serves as both (``FilePresence`` and ``SimUART`` are the same class):
this module is host-only, but the memory bench runs it, and a class costs heap
(docs/firmware.md, "Memory"). Files are read as bytes: a bytes constant, unlike
a short str, is not an interned name.
"""

from wp_compat import ticks_diff, ticks_ms


class FilePresence:
    """A simulated input on a control file: a presence pin or the radar's UART.

    As a pin, ``value()`` is True while the file holds "1"; a missing or
    unreadable file reads as "no presence" (the file may be written
    non-atomically by the test), and so does any other content. It also serves
    as the simulated PIR pin (``pir.PIR`` reads its ``value()``).

    As ``SimUART``, a simulated LD2410 on a UART: it emits real report frames
    from the file, which holds ``<state> <moving cm> <moving energy> <still cm>
    <still energy>`` (e.g. ``2 0 0 120 60`` for a still person at 1.2 m),
    ``garbage`` (random bytes and a cut frame) or nothing (no target). A missing
    file is an unplugged radar: no bytes at all. Commands written to it are
    answered with success ACKs, like the radar does, and their words recorded
    in ``commands``. A frame is produced every 100 ms (the radar sends ~10/s).
    """

    def __init__(self, path):
        self.path = path
        self.commands = []
        self.buf = b""  # bytes waiting to be read
        self.ticks = None  # ticks_ms() of the last frame

    def value(self):
        """Return True when the control file currently holds "1"."""
        try:
            with open(self.path, "rb") as fh:
                return fh.read(8).strip() == b"1"
        except OSError:
            return False

    def any(self):
        """Return how many bytes wait; produces the next frame when one is due."""
        now = ticks_ms()
        if self.ticks is None or ticks_diff(now, self.ticks) >= 100:  # a frame every 100 ms
            self.ticks = now
            try:
                with open(self.path, "rb") as fh:
                    text = fh.read(64).strip()
            except OSError:
                text = None  # unplugged: no bytes
            if text == b"garbage":
                import os  # here: a module global would cost a dict slot on the heap

                # Random bytes, then the first 11 bytes of the report "2 0 0 100 50": a
                # frame cut by a radar reset.
                self.buf += os.urandom(24) + b"\xf4\xf3\xf2\xf1\x0d\x00\x02\xaa\x02\x00\x00"
            elif text is not None:
                fields = text.split() or (0, 0, 0, 0, 0)  # an empty file: no target
                if len(fields) == 5:
                    state, move_cm, move_e, still_cm, still_e = map(int, fields)
                    detect = max(move_cm, still_cm)
                    body = bytes(
                        (2, 0xAA, state, move_cm & 0xFF, move_cm >> 8, move_e, still_cm & 0xFF)
                        + (still_cm >> 8, still_e, detect & 0xFF, detect >> 8, 0x55, 0)
                    )
                    self.buf += b"\xf4\xf3\xf2\xf1\x0d\x00" + body + b"\xf8\xf7\xf6\xf5"  # 13 bytes
        return len(self.buf)

    def read(self, n):
        """Return up to ``n`` waiting bytes, or None when there are none."""
        out, self.buf = self.buf[:n], self.buf[n:]
        return out or None

    def write(self, data):
        """Take a command frame and queue its success ACK."""
        code = data[6] | data[7] << 8
        self.commands.append(code)
        body = bytes((data[6], data[7] | 0x01, 0, 0))
        if code == 0x00FF:  # "enable configuration" answers with the protocol version
            body += b"\x01\x00\x40\x00"
        self.buf += b"\xfd\xfc\xfb\xfa" + bytes((len(body), 0)) + body + b"\x04\x03\x02\x01"
        return len(data)


SimUART = FilePresence
