"""``werkplek pki``: a CA and leaf certificates that verify, with private keys kept private."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from werkplek import pki
from werkplek.cli import main


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_cli_makes_a_ca_and_a_server_certificate_it_signed(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    assert main(["pki", "ca", "--dir", str(folder), "--name", "Gemeente Test CA"]) == 0
    assert main(["pki", "server", "--dir", str(folder), "mqtt.gemeente.test", "10.0.0.5"]) == 0

    assert _mode(folder / "ca.key") == 0o600
    assert _mode(folder / "mqtt.gemeente.test.key") == 0o600
    ca = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
    assert x509.load_der_x509_certificate((folder / "ca.der").read_bytes()) == ca
    leaf = x509.load_pem_x509_certificate((folder / "mqtt.gemeente.test.crt").read_bytes())
    leaf.verify_directly_issued_by(ca)  # raises when the CA did not sign it
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["mqtt.gemeente.test"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.0.0.5")]
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.not_valid_after_utc <= ca.not_valid_after_utc


def test_client_certificate_is_for_client_auth(tmp_path: Path) -> None:
    pki.create_ca(tmp_path, "CA")
    issued = pki.issue(tmp_path, "gateway", ["werkplek-gateway"], client=True)
    leaf = x509.load_pem_x509_certificate(issued.cert.read_bytes())
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert _mode(issued.key) == 0o600


def test_an_existing_ca_is_not_replaced_by_accident(tmp_path: Path, capsys) -> None:
    pki.create_ca(tmp_path, "CA")
    before = (tmp_path / "ca.crt").read_bytes()
    assert main(["pki", "ca", "--dir", str(tmp_path), "--name", "Again"]) == 1
    assert "exists already" in capsys.readouterr().out
    assert (tmp_path / "ca.crt").read_bytes() == before
    pki.create_ca(tmp_path, "Replaced", force=True)
    assert (tmp_path / "ca.crt").read_bytes() != before
    assert _mode(tmp_path / "ca.key") == 0o600


def test_issue_without_a_ca_or_with_a_path_as_name_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        pki.issue(tmp_path, "broker", ["localhost"])
    pki.create_ca(tmp_path, "CA")
    with pytest.raises(ValueError, match="plain file name"):
        pki.issue(tmp_path, "../escape", ["localhost"])
    with pytest.raises(ValueError, match="at least one"):
        pki.issue(tmp_path, "broker", [])


def test_cli_issues_a_client_certificate_from_the_ca(tmp_path: Path) -> None:
    folder = tmp_path / "pki"
    assert main(["pki", "ca", "--dir", str(folder), "--name", "Gemeente Test CA"]) == 0
    assert main(["pki", "client", "--dir", str(folder), "werkplek-gateway"]) == 0
    ca = x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
    leaf = x509.load_pem_x509_certificate((folder / "werkplek-gateway.crt").read_bytes())
    leaf.verify_directly_issued_by(ca)
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert _mode(folder / "werkplek-gateway.key") == 0o600
