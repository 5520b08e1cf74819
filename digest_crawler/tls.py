"""TLS: the certificate of every https answer is checked.

Scrapy checks certificates when ``DOWNLOAD_VERIFY_CERTIFICATES`` is on
(``settings.py`` turns it on), against the system's CA store, on every
request: the pages, the API calls, robots.txt, through a proxy too. A
private mirror's own CA is trusted by naming a PEM bundle in
``DIGEST_CA_BUNDLE``: the add-on then sends https requests through
``CaBundleHandler``, which trusts that bundle in place of the system's store
(as ``curl --cacert`` does). Nothing trusts any certificate silently.

A certificate that fails its check fails the connection before a byte of
the request is sent (the token included); ``tls_failure`` says why in one
line.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, cast

from cryptography.hazmat.primitives.serialization import Encoding
from OpenSSL import SSL
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from service_identity import VerificationError
from twisted.internet.ssl import Certificate, trustRootFromCertificates
from twisted.web.client import BrowserLikePolicyForHTTPS, ResponseFailed

from digest_crawler.config import Config, read_ca_bundle

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.web.iweb import IPolicyForHTTPS


class CaBundleHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler, checking certificates against
    ``DIGEST_CA_BUNDLE`` (not the system's store): Twisted's browser-like
    policy (``optionsForClientTLS``: the chain and the host name) with the
    bundle's certificates as its trust root. Scrapy 2.19 deprecates
    ``DOWNLOADER_CLIENTCONTEXTFACTORY``; its maintainers point at a
    subclassed download handler for what its setting cannot say."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        bundle = Config.from_settings(crawler.settings).ca_bundle
        if bundle is not None:
            roots = [
                Certificate.loadPEM(c.public_bytes(Encoding.PEM)) for c in read_ca_bundle(bundle)
            ]
            trusted = trustRootFromCertificates(roots)  # type: ignore[no-untyped-call]
            policy = BrowserLikePolicyForHTTPS(trustRoot=trusted)  # type: ignore[no-untyped-call]
            self._contextFactory = cast("IPolicyForHTTPS", policy)


def tls_failure(error: BaseException | None) -> str | None:
    """Why a download failed its TLS handshake, in one line; ``None`` when
    it failed for another reason (or did not fail).

    >>> tls_failure(ValueError("x")) is None
    True
    >>> tls_failure(ssl.SSLCertVerificationError(1, "certificate verify failed"))
    'TLS: the certificate was refused (certificate verify failed)'
    """
    for cause in _chain(error):
        if isinstance(cause, ResponseFailed):
            for reason in cause.reasons:
                found = tls_failure(reason.value)
                if found:
                    return found
        problem = _problem(cause)
        if problem:
            return problem
    return None


def _problem(error: BaseException) -> str | None:
    if isinstance(error, VerificationError):
        return f"TLS: the certificate is not valid for {_host_checked(error)}"
    if isinstance(error, SSL.Error):
        reasons = [str(part[2]) for part in error.args[0] if len(part) == 3] if error.args else []
        return f"TLS: the certificate was refused ({'; '.join(reasons) or 'handshake failed'})"
    if isinstance(error, ssl.SSLError):
        why = getattr(error, "reason", None) or error.strerror or error
        return f"TLS: the certificate was refused ({why})"
    return None


def _host_checked(error: VerificationError) -> str:
    """The host name (or address) the certificate did not name: ours, not the server's text."""
    for mismatch in error.errors:
        checked = getattr(mismatch, "mismatched_id", None)
        name = getattr(checked, "hostname", None) or getattr(checked, "ip", None)
        if name is not None:
            return name.decode("ascii", "replace") if isinstance(name, bytes) else str(name)
    return "this host"


def _chain(error: BaseException | None) -> list[BaseException]:
    """``error`` and what it was raised from, innermost last."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
