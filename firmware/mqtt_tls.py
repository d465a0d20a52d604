"""TLS for the MQTT link: a client context that trusts only the municipality's CA.

Why a module of its own: only a node with ``ca_file`` in its config imports it
(from ``mqtt_connect``, per connection attempt) and drops it again, so a plain
node neither loads this code nor interns its names (see docs/firmware.md, "TLS").
"""


def context(ca_file):
    """Return a client TLS context trusting only the CA in ``ca_file``.

    The broker's certificate is required and must name the host given as
    ``server_hostname`` when wrapping. On MicroPython ``ca_file`` holds the CA in
    DER (mbedTLS builds may lack a PEM parser); on CPython PEM or DER. Made per
    connection attempt, so nothing of it stays on the heap between connects.
    """
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Vital: MicroPython's client context starts with CERT_NONE (CPython's with CERT_REQUIRED).
    ctx.verify_mode = ssl.CERT_REQUIRED  # type: ignore[attr-defined]  # not in the stubs
    with open(ca_file, "rb") as fh:
        ca = fh.read()
    if ca.startswith(b"-----"):
        ctx.load_verify_locations(cadata=ca.decode())  # PEM (CPython takes it as str)
    else:
        ctx.load_verify_locations(cadata=ca)  # DER
    return ctx


def wrap(sock, tls):
    """Wrap the non-blocking, connecting ``sock`` in TLS (MicroPython); ``tls``: (CA file, host).

    The handshake is left to the first write and read: the socket is
    non-blocking, and MicroPython's TLS socket polls the direction mbedTLS waits
    for. A certificate the CA did not sign, or one that does not name the host,
    makes that write or read raise (the connection attempt fails and is retried).
    """
    return context(tls[0]).wrap_socket(sock, server_hostname=tls[1], do_handshake_on_connect=False)
