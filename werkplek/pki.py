"""A small certificate authority for one municipality: ``werkplek pki``.

Why our own: sensors, the gateway and the backend verify the broker against a
CA the municipality controls, not against the public web PKI (a broker on the
building network has no public name). A municipality with its own CA uses that
instead (the openssl equivalent is in docs/operations.md); this command is for
those without one. Keys are EC P-256: small enough for an ESP32's mbedTLS and
widely supported. Private keys are written with mode 0600 and never printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The CA's files inside the PKI directory.
CA_KEY = "ca.key"
CA_CERT = "ca.crt"
#: The CA certificate in DER, for the sensors (``ca_file`` in their device config).
CA_DER = "ca.der"

#: Lifetimes: a CA outlives its devices; leaf certificates are renewed more often
#: (825 days is the longest most TLS clients accept for a server certificate).
CA_DAYS = 3650
LEAF_DAYS = 825


@dataclass(frozen=True)
class Issued:
    """Where an issued key and certificate were written."""

    key: Path
    cert: Path


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """Write ``key`` as PEM, created with mode 0600 (never readable by others, not even briefly)."""
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)  # the umask cannot widen it, but an odd one could narrow it oddly


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(path, 0o644)


def _now() -> dt.datetime:
    # A minute back: a device whose clock is a little behind still accepts a fresh certificate.
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)


def create_ca(directory: Path, name: str, *, days: int = CA_DAYS, force: bool = False) -> Issued:
    """Create the CA key and self-signed certificate in ``directory``.

    Raises:
        FileExistsError: a CA exists already and ``force`` is not set (replacing
            it would make every device's CA copy useless).
    """
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / CA_KEY, directory / CA_CERT
    if not force and (key_path.exists() or cert_path.exists()):
        raise FileExistsError(f"a CA exists already in {directory} (use --force to replace it)")
    key = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, key)
    _write_cert(cert_path, cert)
    # The sensors' copy: MicroPython's mbedTLS takes the CA as DER (its PEM parser may be
    # left out of a build), and DER is smaller on the device's flash as well.
    (directory / CA_DER).write_bytes(cert.public_bytes(serialization.Encoding.DER))
    return Issued(key_path, cert_path)


def _load_ca(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key is not an EC key made by `werkplek pki ca`")
    return key, x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    """Host names and IP addresses as the certificate's subject alternative names."""
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def issue(
    directory: Path,
    stem: str,
    names: list[str],
    *,
    client: bool = False,
    days: int = LEAF_DAYS,
) -> Issued:
    """Issue a server (or, with ``client``, a client) key and certificate signed by the CA.

    ``names``: host names and IP addresses the certificate is valid for (the first
    is also its common name); a client certificate's first name is its identity.
    Writes ``<stem>.key`` (0600) and ``<stem>.crt`` in ``directory``.

    Raises:
        ValueError: no names, or a stem that is not a plain file name.
        FileNotFoundError: no CA in ``directory`` (create it first).
    """
    if not names:
        raise ValueError("give at least one host name or IP address")
    if not stem or Path(stem).name != stem or stem.startswith("."):
        raise ValueError(f"not a plain file name: {stem!r}")
    ca_key, ca_cert = _load_ca(directory)
    key = _new_key()
    start = _now()
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(min(start + dt.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(_san(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    issued = Issued(directory / f"{stem}.key", directory / f"{stem}.crt")
    _write_private(issued.key, key)
    _write_cert(issued.cert, cert)
    return issued


def _cmd(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    try:
        if args.pki_command == "ca":
            done = create_ca(directory, args.name, days=args.days, force=args.force)
        else:
            done = issue(
                directory,
                args.out or args.names[0],
                args.names,
                client=args.pki_command == "client",
                days=args.days,
            )
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"werkplek pki: {exc}")  # noqa: T201 - the operator reads this
        return 1
    print(f"key  {done.key} (mode 0600: keep it on this host only)")  # noqa: T201
    print(f"cert {done.cert}")  # noqa: T201
    return 0


def add_cli(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``werkplek pki ca|server|client`` to the command line."""
    pki = sub.add_parser("pki", help="create the municipality's CA and TLS certificates")
    pki_sub = pki.add_subparsers(dest="pki_command", required=True)
    ca = pki_sub.add_parser("ca", help="create the CA (once)")
    ca.add_argument("--name", required=True, help="the CA's name, e.g. 'Gemeente Ede Werkplek CA'")
    ca.add_argument("--days", type=int, default=CA_DAYS, help="validity in days")
    ca.add_argument("--force", action="store_true", help="replace an existing CA")
    for kind, text in (("server", "a broker certificate"), ("client", "a client certificate")):
        leaf = pki_sub.add_parser(kind, help=f"issue {text} signed by the CA")
        leaf.add_argument(
            "names", nargs="+", help="host names and IP addresses (the first is the common name)"
        )
        leaf.add_argument("--out", help="file name stem (default: the first name)")
        leaf.add_argument("--days", type=int, default=LEAF_DAYS, help="validity in days")
    for parser in pki_sub.choices.values():
        parser.add_argument("--dir", default="pki", help="the PKI directory (default ./pki)")
    pki.set_defaults(func=_cmd)
