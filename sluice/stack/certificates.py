"""A private certificate authority and one server certificate for the secure native stack.

Every service of ``sluice stack up --secure`` serves the same certificate, issued for the
loopback names the stack listens on; clients trust the CA through ``SLUICE_TLS_CA_FILE``.
The CA lives for years; the server certificate is reissued when it is missing, expires within
:data:`RENEW_BEFORE`, or no longer names every address the stack binds.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sluice.private_files import write_private

CA_DAYS = 5 * 365
SERVER_DAYS = 365
RENEW_BEFORE = dt.timedelta(days=30)
#: The subject of the server certificate; Kafka's controller listener authenticates its own
#: broker by it (``secure.BROKER_PRINCIPAL``).
SERVER_NAME = "sluice-stack"


@dataclass(frozen=True)
class StackCertificates:
    """Where the CA and the server's certificate and key live."""

    folder: Path

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients trust (PEM)."""
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def cert_file(self) -> Path:
        """The server certificate followed by the CA's (PEM)."""
        return self.folder / "server.pem"

    @property
    def key_file(self) -> Path:
        """The server's private key (PKCS#8 PEM, unencrypted, mode 0600)."""
        return self.folder / "server.key"

    def ensure(self, hosts: list[str], now: dt.datetime | None = None) -> bool:
        """Create the CA and server certificate as needed; True when anything was (re)issued."""
        now = now or dt.datetime.now(dt.UTC)
        self.folder.mkdir(parents=True, exist_ok=True)
        issued = False
        if not (self.ca_file.exists() and self.ca_key.exists()):
            self._issue_ca(now)
            issued = True
        if issued or self._server_needs_renewal(hosts, now):
            self._issue_server(hosts, now)
            issued = True
        return issued

    # -- issuing -------------------------------------------------------------------------------
    def _issue_ca(self, now: dt.datetime) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sluice local CA")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
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
            .sign(key, hashes.SHA256())
        )
        write_private(self.ca_key, _key_pem(key))
        self.ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.ca_file.chmod(0o644)

    def _issue_server(self, hosts: list[str], now: dt.datetime, days: int = SERVER_DAYS) -> None:
        ca_key = serialization.load_pem_private_key(self.ca_key.read_bytes(), password=None)
        ca_cert = x509.load_pem_x509_certificate(self.ca_file.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)]))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(_alt_names(hosts)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                # Client auth too: the broker presents it to its own controller listener.
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        write_private(self.key_file, _key_pem(key))
        chain = cert.public_bytes(serialization.Encoding.PEM) + self.ca_file.read_bytes()
        self.cert_file.write_bytes(chain)
        self.cert_file.chmod(0o644)

    def _server_needs_renewal(self, hosts: list[str], now: dt.datetime) -> bool:
        if not (self.cert_file.exists() and self.key_file.exists()):
            return True
        cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        if cert.not_valid_after_utc - now < RENEW_BEFORE:
            return True
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return set(_alt_names(hosts)) - set(names)

    def issue_expired_server(self, hosts: list[str], folder: Path) -> StackCertificates:
        """A copy of this CA with a server certificate that expired yesterday (for drills)."""
        other = StackCertificates(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for source, target in ((self.ca_file, other.ca_file), (self.ca_key, other.ca_key)):
            target.write_bytes(source.read_bytes())
        other._issue_server(hosts, dt.datetime.now(dt.UTC) - dt.timedelta(days=2), days=1)
        return other


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _alt_names(hosts: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in sorted({"localhost", "127.0.0.1", *hosts}):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names
