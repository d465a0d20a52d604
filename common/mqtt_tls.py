"""TLS to the broker for the gateway and the backend (``mqtts://`` URLs).

Why one place: both services verify the broker the same way, against the
municipality's CA (``werkplek pki`` or its own), check that the certificate
names the host of the URL, and speak TLS 1.2 or newer. A client certificate is
optional (for a broker that requires one).
"""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(
    ca_file: Path | None, cert_file: Path | None = None, key_file: Path | None = None
) -> ssl.SSLContext:
    """Return a client context trusting ``ca_file`` only (the system's CAs when it is None).

    Raises:
        OSError, ssl.SSLError: a file is missing or holds no certificate/key.
    """
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file is not None:
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


def check_settings(
    tls: bool, ca_file: Path | None, cert_file: Path | None, key_file: Path | None
) -> None:
    """Refuse TLS files without an ``mqtts://`` URL, and a client cert without its key.

    Raises:
        ValueError: with the reason, for the settings' validation error.
    """
    if not tls and (ca_file or cert_file or key_file):
        raise ValueError("mqtt_ca_file/cert_file/key_file need an mqtts:// mqtt_url")
    if (cert_file is None) != (key_file is None):
        raise ValueError("mqtt_cert_file and mqtt_key_file go together")
