"""HLK-LD2410 24 GHz radar driver over a UART passed in (256000 baud, 8N1).

Report frames:  ``F4 F3 F2 F1 | len u16 LE | payload | F8 F7 F6 F5``; the payload
is ``type (01 engineering, 02 basic) | AA | target | [gates] | 55 | 00`` with the
target as ``state u8 | moving cm u16 | moving energy u8 | still cm u16 | still
energy u8 | detection cm u16``. Commands and their ACKs use ``FD FC FB FA |
len | word u16 [| value] | 04 03 02 01``; an ACK's word is the command's | 0x0100,
followed by a u16 status (0 = success).

The parser never trusts the stream: it scans for a header, bounds the length,
checks the tail and the payload markers, and on any mismatch drops one byte and
scans again, so garbage or a cut frame costs at most that frame.

Only the reading side is here. The commands (configuration mode, gate limits)
are sent a few times in a node's life and live in ``ld2410_cmd``
(``await ld2410_cmd.configure(radar, move_gate, still_gate, idle_s)``), which
``remote_config`` imports and which drops itself again, so the steady state does not
carry them. An ACK is parsed here all the same, as a tuple
``(command, status, data)``: it arrives mixed with the reports.

Memory (docs/firmware.md, "Memory"): the parser is part of the driver (one
class, one object), the constants are ``const`` (no globals, no names), and
the method and attribute names ``read``, ``parse``, ``buf``, ``target``,
``ticks`` and ``message`` are names the runtime already has, so they cost no
interned name on the node's heap.
"""

from wp_compat import const, ticks_diff, ticks_ms

_REPORT_HEAD = const(b"\xf4\xf3\xf2\xf1")
_REPORT_TAIL = const(b"\xf8\xf7\xf6\xf5")
_CMD_HEAD = const(b"\xfd\xfc\xfb\xfa")
_CMD_TAIL = const(b"\x04\x03\x02\x01")

#: A report is the tuple ``(state, move_cm, move_energy, still_cm, still_energy,
#: detect_cm, gates)``: state 0 none, 1 moving, 2 still, 3 both; energies 0..100;
#: ``gates`` in engineering mode ``(moving energies, still energies)`` per gate, else
#: None. A tuple, not a class: the node keeps one and parses ten a second. An ACK
#: is a tuple of three items.
_MOVING = const(1)
_STILL = const(2)
_BOTH = const(3)
_MAX_GATE = const(8)
_MAX_PAYLOAD = const(64)  # longest frame the radar sends is ~40 bytes; longer means garbage
_STALE_MS = const(2000)  # no valid report for this long means the radar is broken


class LD2410:
    """The radar on a UART (``any()``, ``read(n)``, ``write(buf)``), polled by the node.

    Args:
        uart: an open UART (256000 8N1 on the board; a fake in tests), or None to
            use ``parse`` alone.
        max_cm: ignore targets farther away (the neighbouring desk); None = no limit.
        min_energy: ignore targets weaker than this (0..100).

    Attributes:
        target: the last valid report tuple (None before the first), received at
            ``ticks`` (``ticks_ms()``).
        message: the last ACK tuple (``ld2410_cmd`` waits for it).
        frames, errors, garbage: counters of the parser: good frames, bad frames
            (length, tail or payload), bytes skipped while looking for a header.
        parser: the radar itself (the counters' old home; read by ``node_reports``).
    """

    def __init__(self, uart, max_cm=None, min_energy=0):
        self.uart = uart
        self.parser = self
        self.max_cm = max_cm
        self.min_energy = min_energy
        self.target = None
        self.ticks = None
        self.message = None
        self.buf = b""
        self.frames = 0
        self.errors = 0
        self.garbage = 0

    def parse(self, data):
        """Add received bytes; return the frames found: report tuples and ACK tuples (3 items).

        The last report is kept in ``target`` (with its time in ``ticks``), the last
        ACK in ``message``.
        """
        buf = self.buf + bytes(data)
        out = []
        while True:
            # The next header of either frame kind (written out here: a helper
            # function would cost heap on the node, see docs/firmware.md "Memory").
            i = buf.find(_REPORT_HEAD)
            j = buf.find(_CMD_HEAD)
            if i < 0 or 0 <= j < i:
                i = j
            if i < 0:
                keep = 3 if len(buf) > 3 else len(buf)  # a header may be split
                self.garbage += len(buf) - keep
                buf = buf[len(buf) - keep :]
                break
            if i:
                self.garbage += i
                buf = buf[i:]
            if len(buf) < 6:
                break
            end = 6 + (buf[4] | buf[5] << 8)  # where the payload ends and the tail starts
            report = buf[0] == 0xF4
            p = b""  # the payload, when the length and the tail are right
            # A length over _MAX_PAYLOAD is garbage: so at most 74 bytes wait for a frame's rest.
            if 8 <= end <= 6 + _MAX_PAYLOAD:
                if len(buf) < end + 4:
                    break
                if buf[end : end + 4] == (_REPORT_TAIL if report else _CMD_TAIL):
                    p = buf[6:end]
            frame: tuple | None = None
            n = len(p)
            if not report:
                if n >= 4 and p[1] & 0x01:  # an ACK: (command word, status, value)
                    frame = ((p[0] | p[1] << 8) & 0xFEFF, p[2] | p[3] << 8, bytes(p[4:]))
            elif n >= 13 and p[1] == 0xAA and p[n - 2] == 0x55 and p[n - 1] == 0x00:
                # A report: type, AA, the target, [gates,] 55 00; decoded when valid.
                kind = p[0]
                gates = None
                if p[2] > _BOTH or p[5] > 100 or p[8] > 100:
                    kind = 0  # no such state or energy
                elif kind == 0x01:  # engineering mode: the energies per gate follow
                    moves, stills = p[11] + 1, p[12] + 1
                    if moves > _MAX_GATE + 1 or stills > _MAX_GATE + 1 or 15 + moves + stills > n:
                        kind = 0
                    else:
                        gates = (
                            bytes(p[13 : 13 + moves]),
                            bytes(p[13 + moves : 13 + moves + stills]),
                        )
                elif n != 13:
                    kind = 0  # a basic report has a fixed length
                if kind == 0x01 or kind == 0x02:
                    frame = (
                        p[2],
                        p[3] | p[4] << 8,
                        p[5],
                        p[6] | p[7] << 8,
                        p[8],
                        p[9] | p[10] << 8,
                        gates,
                    )
            if frame is None:
                self.errors += 1
                buf = buf[1:]
                continue
            self.frames += 1
            out.append(frame)
            if report:
                self.target = frame
                self.ticks = ticks_ms()
            else:
                self.message = frame
            buf = buf[end + 4 :]
        self.buf = buf
        return out

    def read(self):
        """Parse what the UART holds; return ``(moving_energy, still_energy)`` that count.

        Raises:
            OSError: no valid report within 2 s (broken wire, wrong baud rate).
        """
        uart = self.uart
        n = uart.any()
        if n:
            self.parse(uart.read(n) or b"")
        r = self.target
        if r is None or ticks_diff(ticks_ms(), self.ticks) >= _STALE_MS:
            raise OSError("radar silent")
        limit = self.max_cm
        state, move_cm, move, still_cm, still = r[0], r[1], r[2], r[3], r[4]
        if not state & _MOVING or (limit is not None and move_cm > limit):
            move = 0
        if not state & _STILL or (limit is not None and still_cm > limit):
            still = 0
        floor = self.min_energy
        return (move if move >= floor else 0), (still if still >= floor else 0)
