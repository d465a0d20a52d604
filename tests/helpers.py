"""Small helpers shared by integration and end-to-end tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.services import wait_until


@contextmanager
def serve_app(app: Any, port: int, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread; yield its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 20, what="uvicorn started")
        if not server.started:
            raise RuntimeError("uvicorn stopped during start-up")
        yield f"http://{host}:{port}"
    finally:
        runtime = getattr(getattr(app, "state", None), "runtime", None)
        if runtime is not None:
            runtime.close_streams()  # open SSE streams would hold uvicorn's shutdown
        server.should_exit = True
        thread.join(timeout=15)
