"""The LD2410 radar driver against byte streams built from the datasheet's frame layout."""

from __future__ import annotations

import asyncio
import struct

import ld2410
import ld2410_cmd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# ---- frames written from the datasheet, independently of the driver -----------------


def report_frame(state: int, move_cm: int, move_e: int, still_cm: int, still_e: int) -> bytes:
    """Basic-mode report: type 02, head AA, target, tail 55, check 00."""
    detect = max(move_cm, still_cm)
    target = struct.pack("<BHBHBH", state, move_cm, move_e, still_cm, still_e, detect)
    payload = b"\x02\xaa" + target + b"\x55\x00"
    return b"\xf4\xf3\xf2\xf1" + struct.pack("<H", len(payload)) + payload + b"\xf8\xf7\xf6\xf5"


def engineering_frame(state: int, moving: list[int], still: list[int]) -> bytes:
    """Engineering-mode report: type 01, target, max gates, energy per gate, 2 spare bytes."""
    target = struct.pack("<BHBHBH", state, 150, 40, 120, 70, 150)
    gates = bytes([len(moving) - 1, len(still) - 1]) + bytes(moving) + bytes(still)
    payload = b"\x01\xaa" + target + gates + b"\x00\x00" + b"\x55\x00"
    return b"\xf4\xf3\xf2\xf1" + struct.pack("<H", len(payload)) + payload + b"\xf8\xf7\xf6\xf5"


def ack_frame(command: int, status: int = 0, data: bytes = b"") -> bytes:
    body = struct.pack("<HH", command | 0x0100, status) + data
    return b"\xfd\xfc\xfb\xfa" + struct.pack("<H", len(body)) + body + b"\x04\x03\x02\x01"


STILL_PERSON = report_frame(2, 0, 0, 120, 60)
WALKER = report_frame(1, 230, 80, 0, 0)
REPORT_LEN = 7  # items of a report tuple (an ACK tuple has 3)
MAX_PAYLOAD = 64  # the driver's bound on a frame's length

# The command frames of the datasheet.
ENABLE_CONFIG = bytes.fromhex("FDFCFBFA 0400 FF00 0100 04030201")
END_CONFIG = bytes.fromhex("FDFCFBFA 0200 FE00 04030201")


def max_gates(move: int, still: int, idle_s: int) -> bytes:
    """The "max distance gates and no-one duration" command: (u16 word, u32 value) x 3."""
    value = struct.pack("<HIHIHI", 0, move, 1, still, 2, idle_s)
    return b"\xfd\xfc\xfb\xfa\x14\x00\x60\x00" + value + b"\x04\x03\x02\x01"


def parser() -> ld2410.LD2410:
    """The driver without a UART: its parser alone."""
    return ld2410.LD2410(None)


def reports(frames: list) -> list[tuple[int, int, int, int, int]]:
    """(state, move cm, move energy, still cm, still energy) of the reports among ``frames``."""
    return [f[:5] for f in frames if len(f) == REPORT_LEN]


# ---- parsing ------------------------------------------------------------------------


def test_a_basic_report_is_decoded_little_endian():
    frame = report_frame(3, 0x0123, 45, 0x0201, 67)
    [r] = parser().parse(frame)
    assert r == (3, 0x0123, 45, 0x0201, 67, 0x0201, None)  # ..., detect cm, no gates


def test_an_engineering_report_carries_the_energy_per_gate():
    frame = engineering_frame(3, list(range(0, 90, 10)), [5, 6, 7, 8, 9, 10, 11, 12, 13])
    [r] = parser().parse(frame)
    assert (r[0], r[1], r[4]) == (3, 150, 70)  # state, move cm, still energy
    assert r[6] == (bytes(range(0, 90, 10)), bytes(range(5, 14)))  # energies per gate


def test_frames_split_at_every_byte_give_the_same_reports():
    stream = STILL_PERSON + WALKER + STILL_PERSON
    p = parser()
    out = []
    for i in range(len(stream)):
        out += p.parse(stream[i : i + 1])
    assert reports(out) == [(2, 0, 0, 120, 60), (1, 230, 80, 0, 0), (2, 0, 0, 120, 60)]
    assert (p.frames, p.errors, p.garbage) == (3, 0, 0)


def test_garbage_and_a_cut_frame_cost_only_that_frame():
    garbage = bytes([0x00, 0xF4, 0xF3, 0x13, 0x37, 0xFF, 0xF8, 0xF7])
    cut = WALKER[:11]  # the radar was reset mid-frame
    p = parser()
    out = p.parse(garbage + STILL_PERSON + cut + STILL_PERSON + garbage + WALKER)
    assert reports(out) == [(2, 0, 0, 120, 60), (2, 0, 0, 120, 60), (1, 230, 80, 0, 0)]
    assert p.errors >= 1 and p.garbage >= len(garbage)


@pytest.mark.parametrize(
    "broken",
    [
        b"\xf4\xf3\xf2\xf1\xff\xff" + STILL_PERSON[6:],  # absurd length
        STILL_PERSON[:-1] + b"\x00",  # wrong tail
        STILL_PERSON[:7] + b"\xab" + STILL_PERSON[8:],  # head marker not AA
        STILL_PERSON[:-6] + b"\x54\x00" + STILL_PERSON[-4:],  # end marker not 55
        STILL_PERSON[:8] + b"\x07" + STILL_PERSON[9:],  # target state 7 does not exist
        STILL_PERSON[:6] + b"\x09" + STILL_PERSON[7:],  # unknown data type
        report_frame(2, 0, 0, 120, 101),  # energy above 100
    ],
)
def test_a_broken_frame_is_rejected_and_the_next_one_read(broken):
    p = parser()
    out = p.parse(broken + WALKER)
    assert reports(out) == [(1, 230, 80, 0, 0)]
    assert p.errors >= 1


def test_acks_are_parsed_between_reports():
    enable_ack = ack_frame(0x00FF, 0, b"\x01\x00\x40\x00")
    out = parser().parse(STILL_PERSON + enable_ack + ack_frame(0x0060, 1) + WALKER)
    acks = [a for a in out if len(a) == 3]  # (command, status, data)
    assert acks == [(0x00FF, 0, b"\x01\x00\x40\x00"), (0x0060, 1, b"")]
    assert len(reports(out)) == 2


# Byte soup with frame markers and pieces of real frames in it, so the parser meets
# fake headers, absurd lengths, cut frames and misplaced tails, not just noise.
_PIECES = st.sampled_from(
    [
        b"\xf4\xf3\xf2\xf1",
        b"\xfd\xfc\xfb\xfa",
        b"\xf8\xf7\xf6\xf5",
        b"\x04\x03\x02\x01",
        b"\x0d\x00",
        b"\x02\xaa",
        b"\x55\x00",
        STILL_PERSON[:9],
        STILL_PERSON[9:],
    ]
)
_SOUP = st.lists(st.binary(max_size=12) | _PIECES, max_size=60).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(data=_SOUP, cuts=st.lists(st.integers(0, 600), max_size=12))
def test_garbage_never_raises_and_the_buffer_stays_bounded(data, cuts):
    p = parser()
    last = 0
    for cut in sorted(cuts) + [len(data)]:
        for frame in p.parse(data[last:cut]):
            assert isinstance(frame, tuple) and len(frame) in (3, REPORT_LEN)
        last = max(last, cut)
        assert len(p.buf) <= MAX_PAYLOAD + 10


@settings(max_examples=300, deadline=None)
@given(
    garbage=_SOUP,
    frames=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 600), st.integers(0, 100)),
        min_size=5,
        max_size=8,
    ),
    chunk=st.integers(1, 40),
)
def test_valid_frames_after_garbage_are_all_recovered(garbage, frames, chunk):
    stream = garbage + b"".join(report_frame(s, d, e, d, e) for s, d, e in frames)
    p = parser()
    out = []
    for i in range(0, len(stream), chunk):
        out += p.parse(stream[i : i + chunk])
    got = reports(out)
    # Garbage can at worst fake a header whose length reaches into the first real
    # frames (<= 74 bytes); every frame after that is recovered, in order.
    expected = [(s, d, e, d, e) for s, d, e in frames]
    assert got[-(len(frames) - 4) :] == expected[4:]


# ---- the driver on a fake UART --------------------------------------------------------


class FakeUART:
    """Bytes the radar sent wait in ``rx``; what the driver writes lands in ``tx``.

    ``acks`` maps a command word to the ACK the fake radar answers with.
    """

    def __init__(self) -> None:
        self.rx = b""
        self.tx: list[bytes] = []
        self.acks: dict[int, bytes] = {}

    def any(self) -> int:
        return len(self.rx)

    def read(self, n: int) -> bytes | None:
        out, self.rx = self.rx[:n], self.rx[n:]
        return out or None

    def write(self, data: bytes) -> int:
        self.tx.append(bytes(data))
        word = data[6] | data[7] << 8
        if word in self.acks:
            self.rx += self.acks[word]
        return len(data)


def acking_uart() -> FakeUART:
    """A fake radar that accepts the three configuration commands."""
    uart = FakeUART()
    for word in (0x00FF, 0x0060, 0x00FE):
        uart.acks[word] = ack_frame(word)
    return uart


def test_command_frames_match_the_datasheet():
    uart = acking_uart()
    asyncio.run(ld2410_cmd.configure(ld2410.LD2410(uart), 8, 8, 5))
    assert uart.tx == [
        ENABLE_CONFIG,
        bytes.fromhex("FDFCFBFA 1400 6000 0000 08000000 0100 08000000 0200 05000000 04030201"),
        END_CONFIG,
    ]
    for move, still in ((9, 3), (3, 1)):
        with pytest.raises(ValueError):
            asyncio.run(ld2410_cmd.configure(ld2410.LD2410(acking_uart()), move, still, 0))
    assert [ld2410_cmd.gate_for_cm(cm) for cm in (0, 75, 76, 150, 225, 2000)] == [2, 2, 2, 2, 3, 8]


def test_targets_respect_the_distance_and_energy_limits():
    uart = FakeUART()
    radar = ld2410.LD2410(uart, max_cm=150, min_energy=20)
    uart.rx = report_frame(3, 300, 90, 120, 60)
    assert radar.read() == (0, 60)  # the walker at 3 m is the neighbouring desk
    uart.rx = report_frame(2, 0, 0, 120, 10)
    assert radar.read() == (0, 0)  # too weak: noise
    uart.rx = report_frame(1, 100, 50, 0, 0)
    assert radar.read() == (50, 0)


def test_a_silent_radar_raises_instead_of_reporting_nobody(monkeypatch):
    uart = FakeUART()
    radar = ld2410.LD2410(uart)  # silent after 2 s
    with pytest.raises(OSError, match="silent"):
        radar.read()
    uart.rx = STILL_PERSON
    assert any(radar.read())
    now = ld2410.ticks_ms()
    monkeypatch.setattr(ld2410, "ticks_ms", lambda: now + 2000)
    with pytest.raises(OSError):
        radar.read()


def test_configure_enables_sets_gates_and_ends_config():
    uart = acking_uart()
    radar = ld2410.LD2410(uart)
    asyncio.run(ld2410_cmd.configure(radar, 3, 2, 0))
    assert uart.tx == [ENABLE_CONFIG, max_gates(3, 2, 0), END_CONFIG]


def test_a_refused_setting_still_ends_config_mode():
    uart = FakeUART()
    uart.acks = {0x00FF: ack_frame(0x00FF), 0x0060: ack_frame(0x0060, 1), 0x00FE: ack_frame(0xFE)}
    radar = ld2410.LD2410(uart)
    with pytest.raises(OSError, match="refused"):
        asyncio.run(ld2410_cmd.configure(radar, 3, 3, 0))
    assert uart.tx[-1] == END_CONFIG


def test_a_radar_that_never_answers_times_out():
    radar = ld2410.LD2410(FakeUART())
    with pytest.raises(OSError, match="did not acknowledge"):
        asyncio.run(ld2410_cmd.send(radar, 0x00FF, b"\x01\x00", 50))  # 50 ms
