"""``GET /docs``: the interactive API reference under a policy of its own.

Swagger UI comes from a CDN and starts with one inline script, which the strict
policy of every other page forbids. This page allows exactly that CDN and that
one script, by its sha256 hash, rather than loosening the policy everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

CDN = "https://cdn.jsdelivr.net"
_INLINE = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _hashes(html: str) -> str:
    found = []
    for script in _INLINE.findall(html):
        digest = hashlib.sha256(script.encode()).digest()
        found.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return " ".join(found)


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` with a policy naming its CDN and inline script."""
    page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=app.title)
    html = bytes(page.body).decode()
    csp = "; ".join(
        [
            "default-src 'self'",
            f"script-src {CDN} {_hashes(html)}",
            f"style-src {CDN}",
            "img-src 'self' data: https://fastapi.tiangolo.com",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The API reference (Swagger UI)."""
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})
