"""A hostile network for the TLS tests: certificates made in the test, a TLS
site, and a proxy that hands ``huggingface.co`` to a local server.

``Authority`` is a certificate authority of the test's own (what a private
mirror's CA is); ``self_signed`` is the certificate an impostor serves.
``hub_proxy`` is an HTTP proxy (Scrapy's ``https_proxy``) that answers
every ``CONNECT`` (``huggingface.co:443``) by connecting to a local server:
the crawler then speaks TLS with that server as if it were the site, as it
would behind a hostile network or a poisoned DNS.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import select
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import BaseRequestHandler, ThreadingTCPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.site import running

_KEY = ec.SECP256R1()


def _names(names: Sequence[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _builder(subject: str, issuer: str, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
    )


@dataclass(frozen=True)
class Identity:
    """A server's certificate (PEM) and its private key (PEM)."""

    certificate: bytes
    key: bytes

    def context(self, directory: Path) -> ssl.SSLContext:
        """A server-side TLS context serving this identity."""
        cert, key = directory / "server.pem", directory / "server.key"
        cert.write_bytes(self.certificate)
        key.write_bytes(self.key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context


@dataclass
class Authority:
    """A certificate authority made for one test."""

    name: str = "digest_crawler test CA"
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(_KEY))

    @property
    def certificate(self) -> bytes:
        """The CA's own certificate (PEM): what ``DIGEST_CA_BUNDLE`` names."""
        certificate = (
            _builder(self.name, self.name, self.key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
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
            .sign(self.key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, *names: str) -> Identity:
        """A server certificate for ``names`` (host names or IP addresses)."""
        key = ec.generate_private_key(_KEY)
        certificate = (
            _builder(names[0], self.name, key)
            .add_extension(_names(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return Identity(certificate.public_bytes(serialization.Encoding.PEM), _pem(key))


def self_signed(*names: str) -> Identity:
    """A certificate for ``names`` that nobody vouches for (an impostor's)."""
    key = ec.generate_private_key(_KEY)
    certificate = (
        _builder(names[0], names[0], key)
        .add_extension(_names(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Identity(certificate.public_bytes(serialization.Encoding.PEM), _pem(key))


class HubProxy:
    """An HTTP proxy that sends every ``CONNECT`` to ``target`` (host, port),
    whatever host it names, and keeps the hosts it was asked for."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.connects: list[str] = []
        proxy = self

        class Handler(BaseRequestHandler):
            def handle(self) -> None:
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                method, authority, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
                if method != "CONNECT":
                    self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                    return
                proxy.connects.append(authority)
                with socket.create_connection(target, timeout=30) as upstream:
                    self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    _pipe(self.request, upstream)

        self.server = ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes (or 60 s pass)."""
    sockets = [client, upstream]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select(sockets, [], [], 0.05)
        for source in ready:
            try:
                data = source.recv(65536)
                if data:
                    (upstream if source is client else client).sendall(data)
            except OSError:  # a side that refused the handshake reset its connection
                data = b""
            if not data:
                return


@contextmanager
def hub_proxy(target: tuple[str, int]) -> Iterator[HubProxy]:
    """A ``HubProxy`` to ``target`` on a loopback port, for the test's length."""
    proxy = HubProxy(target)
    with running(proxy.server):
        yield proxy
