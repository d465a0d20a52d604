"""QR codes on desks and rooms: scanning one opens the app's check-in for that space.

The code holds only a URL with the space id, nothing about a person, so a printed
sheet can hang in the building for years. It is drawn as SVG by ``segno`` (pure
Python, no image libraries) so it prints sharp at any size.
"""

from __future__ import annotations

import io
from urllib.parse import urlencode

import segno
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.spaces.models import Space

#: Medium error correction survives a scratched or partly covered sticker.
ERROR_LEVEL = "m"


def checkin_url(base_url: str, space_id: str) -> str:
    """Return the app URL a space's QR code opens (``<base>/app/?checkin=<id>``)."""
    return f"{base_url.rstrip('/')}/app/?{urlencode({'checkin': space_id})}"


def qr_svg(url: str, title: str) -> bytes:
    """Encode ``url`` as a standalone SVG image with an accessible ``<title>``."""
    code = segno.make(url, error=ERROR_LEVEL, micro=False)
    out = io.BytesIO()
    # Black on white with the standard quiet zone of four modules: every scanner reads it.
    code.save(out, kind="svg", scale=4, border=4, xmldecl=False, title=title, nl=False)
    return out.getvalue()


def space_qr(session: Session, space_id: str, base_url: str) -> bytes:
    """Return the check-in QR code of a space as SVG.

    Raises:
        NotFound: the space does not exist.
    """
    space = session.get(Space, space_id)
    if space is None:
        raise NotFound(f"space {space_id!r} does not exist", reason="space_not_found")
    return qr_svg(checkin_url(base_url, space.id), f"Inchecken / check in: {space.name}")
