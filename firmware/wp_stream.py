"""The node's TCP stream for its MQTT link: asyncio's own I/O queue, nothing more (MicroPython).

Why not ``asyncio.open_connection``: its module (``asyncio.stream``: servers,
line reads, SSL) costs about 1.8 KB of heap on the unix port, and the link
needs five operations. ``Link`` is both reader and writer, like MicroPython's
own stream: a non-blocking socket, and a task that must wait for it yields
the socket to the scheduler's poll-based I/O queue. Timeouts stay with the
caller (``wait_for_ms``); cancelling a waiting task takes it off the queue.
CPython (demo fleet, tests) keeps ``asyncio.open_connection``.
"""

import errno
import socket
from asyncio import core  # type: ignore[attr-defined]  # the scheduler; not in the stubs

# ``core._io_queue`` is the scheduler's poll-based I/O queue: ``queue_read(s)`` /
# ``queue_write(s)`` park the running task until ``s`` is readable / writable, and
# the bare ``yield`` that follows hands control to the scheduler meanwhile. So the
# functions below with a ``yield`` are MicroPython coroutines (generators), awaited
# like ``async def`` ones.


class Link:
    """One connected non-blocking socket, as ``(reader, writer)`` for ``mqtt_link``."""

    def __init__(self, sock):
        self.sock = sock
        self.out = b""  # written, not yet drained

    def readexactly(self, n):
        """Return exactly ``n`` bytes; raises ``EOFError`` when the peer closes first."""
        data = b""
        while n:
            yield core._io_queue.queue_read(self.sock)
            got = self.sock.read(n)
            if got is None:  # woken without data: wait again
                continue
            if not got:
                raise EOFError
            data += got
            n -= len(got)
        return data

    def write(self, data):
        """Queue ``data`` for ``drain``."""
        self.out += data

    def drain(self):
        """Send what ``write`` queued, waiting while the socket is full."""
        yield core._io_queue.queue_write(self.sock)  # always yield once, as asyncio does
        while self.out:
            sent = self.sock.write(self.out)
            if sent:
                self.out = self.out[sent:]
            if self.out:
                yield core._io_queue.queue_write(self.sock)

    def close(self):
        """Close the socket (``wait_closed`` has nothing left to wait for)."""
        self.sock.close()

    async def wait_closed(self):
        """Return at once: ``close`` already closed the socket."""


def open_connection(host, port):
    """Connect to ``host:port`` without blocking; return ``(link, link)``.

    The address lookup blocks (as in asyncio's own ``open_connection``): the node
    resolves its broker once per connection attempt.
    """
    addr = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    sock = socket.socket(addr[0], addr[1], addr[2])
    sock.setblocking(False)
    try:
        sock.connect(addr[-1])
    except OSError as exc:
        if exc.errno != errno.EINPROGRESS:  # the connect goes on in the background
            raise
    yield core._io_queue.queue_write(sock)  # writable: connected (or failed; the read says)
    link = Link(sock)
    return link, link
