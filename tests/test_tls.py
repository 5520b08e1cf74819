"""Why a download failed its TLS handshake, in one line (the real failures
are in tests/system/test_tls.py)."""

from __future__ import annotations

import pytest
from OpenSSL import SSL
from scrapy.exceptions import DownloadFailedError
from service_identity import VerificationError
from service_identity.exceptions import DNSMismatch, IPAddressMismatch
from service_identity.hazmat import DNS_ID, IPAddress_ID
from twisted.python.failure import Failure
from twisted.web.client import ResponseNeverReceived

from digest_crawler.tls import tls_failure


def wrapped(error: Exception) -> DownloadFailedError:
    """As Scrapy's HTTP/1.1 handler raises it: Twisted's failures inside."""
    download = DownloadFailedError("[<twisted.python.failure.Failure ...>]")
    download.__cause__ = ResponseNeverReceived([Failure(error)])
    return download


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            VerificationError(errors=[DNSMismatch(mismatched_id=DNS_ID("huggingface.co"))]),
            "TLS: the certificate is not valid for huggingface.co",
        ),
        (
            VerificationError(errors=[IPAddressMismatch(mismatched_id=IPAddress_ID("127.0.0.1"))]),
            "TLS: the certificate is not valid for 127.0.0.1",
        ),
        (
            SSL.Error([("SSL routines", "", "certificate verify failed")]),
            "TLS: the certificate was refused (certificate verify failed)",
        ),
    ],
)
def test_a_refused_certificate_is_one_line_saying_why(error: Exception, reason: str) -> None:
    assert tls_failure(wrapped(error)) == reason


def test_other_failures_are_not_tls_s() -> None:
    assert tls_failure(wrapped(ConnectionRefusedError())) is None
    assert tls_failure(DownloadFailedError("Connection was refused")) is None
