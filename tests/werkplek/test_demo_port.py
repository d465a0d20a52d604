"""The demo keeps its port across restarts, so open screens reconnect to the same address."""

from __future__ import annotations

import socket

from werkplek.demo import keep_port

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def test_the_configured_port_is_remembered_and_reused(tmp_path):
    remembered = tmp_path / "demo-http-port.txt"
    wanted = _free_port()
    assert keep_port(HOST, wanted, remembered) == (wanted, None)
    assert remembered.read_text().strip() == str(wanted)
    # The next start prefers the remembered port, even when the default changed.
    assert keep_port(HOST, _free_port(), remembered) == (wanted, None)


def test_a_taken_port_is_named_and_the_replacement_kept(tmp_path):
    remembered = tmp_path / "demo-http-port.txt"
    with socket.socket() as other:  # another program holds the preferred port
        other.bind((HOST, 0))
        other.listen()
        taken = int(other.getsockname()[1])
        port, note = keep_port(HOST, taken, remembered)
        assert port != taken
        assert note is not None and str(taken) in note and str(port) in note
    # Once the other program has gone, the replacement stays: open screens use it.
    assert keep_port(HOST, taken, remembered) == (port, None)


def test_an_explicit_port_wins_over_the_remembered_one(tmp_path):
    remembered = tmp_path / "demo-http-port.txt"
    first = _free_port()
    keep_port(HOST, first, remembered)
    second = _free_port()
    assert keep_port(HOST, second, remembered, explicit=True) == (second, None)
    assert remembered.read_text().strip() == str(second)


def test_a_garbled_memory_falls_back_to_the_configured_port(tmp_path):
    remembered = tmp_path / "demo-http-port.txt"
    remembered.write_text("not a port\n")
    wanted = _free_port()
    assert keep_port(HOST, wanted, remembered) == (wanted, None)
