"""TLS for real: the crawl checks every certificate, trusts a private
mirror's CA only when told (``DIGEST_CA_BUNDLE``), and the token goes to no
impostor and into no file.

``huggingface.co`` is played by a local HTTPS server that a proxy hands the
crawler's ``CONNECT huggingface.co:443`` to (``tests/support/tls.py``): a
hostile network, or a poisoned DNS. The certificates are made in the test.
"""

from __future__ import annotations

import gzip
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.cli import crawl_command, crawl_env, db_rows, table
from tests.support.site import LocalSite, page, redirect, serve
from tests.support.tls import Authority, HubProxy, Identity, hub_proxy, self_signed

pytestmark = pytest.mark.system  # the real commands, in subprocesses

HUB = "https://huggingface.co"
TOKEN = "hf_tlstestsecret0123456789"


@contextmanager
def hub(identity: Identity, tmp_path: Path) -> Iterator[tuple[LocalSite, HubProxy]]:
    """The fixture site over HTTPS with ``identity``, answering for huggingface.co."""
    with (
        serve(tls=identity.context(tmp_path)) as site,
        hub_proxy(site.address) as proxy,
    ):
        yield site, proxy


def crawl(
    base_url: str, workdir: Path, *arguments: str, proxy: HubProxy | None = None
) -> subprocess.CompletedProcess[str]:
    """``scrapy crawl daily`` with the token in its environment (HF_TOKEN)."""
    workdir.mkdir(exist_ok=True)
    env = {**crawl_env(), "HF_TOKEN": TOKEN}
    if proxy is not None:
        env["https_proxy"] = proxy.url
    return subprocess.run(
        crawl_command(base_url, *arguments, feed=None),
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "impostor",
    [
        lambda: self_signed("mirror.example"),  # another host's name, vouched by nobody
        lambda: Authority("an unknown CA").issue("huggingface.co"),  # the name, from a stranger
    ],
    ids=["self-signed for another host", "huggingface.co from an unknown CA"],
)
def test_an_impostor_for_huggingface_co_gets_no_request_and_no_token(
    tmp_path: Path, impostor: object
) -> None:
    identity = impostor()  # type: ignore[operator]
    with hub(identity, tmp_path) as (site, proxy):
        result = crawl(HUB, tmp_path / "crawl", "-a", "date=2026-07-31", proxy=proxy)
    assert result.returncode == 1, result.stderr[-3000:]
    # The crawler did reach the impostor (robots.txt, the page), each once:
    # a refused certificate is not retried.
    assert proxy.connects == ["huggingface.co:443"] * 2
    assert site.requests == [] and site.headers == []  # not one request, so no token
    summary = result.stderr.strip().splitlines()[-1]
    assert summary.startswith("scrapy crawl daily: FAILED: 0 of 1 day stored")
    assert "first failure 2026-07-31: TLS: the certificate" in summary
    assert "'digest/tls_errors': 2" in result.stderr
    (listing,) = table(tmp_path / "crawl" / "papers.sqlite", "crawl_listings")
    assert listing["outcome"] == "failed" and listing["reason"].startswith("TLS: the certificate")
    assert TOKEN not in result.stderr


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_a_private_mirror_is_trusted_through_its_ca_bundle_and_only_then(
    tmp_path: Path, host: str
) -> None:
    authority = Authority("a private mirror's CA")
    bundle = tmp_path / "mirror-ca.pem"
    bundle.write_bytes(authority.certificate)
    with serve(tls=authority.issue("localhost", "127.0.0.1").context(tmp_path)) as site:
        mirror = f"https://{host}:{site.server.server_address[1]}"
        refused = crawl(mirror, tmp_path / "refused", "-a", "date=2026-07-31")
        assert refused.returncode == 1
        assert site.requests == []
        assert (
            "TLS: the certificate was refused (certificate verify failed)"
            in (refused.stderr.strip().splitlines()[-1])
        )
        trusted = crawl(
            mirror,
            tmp_path / "trusted",
            "-a",
            "date=2026-07-31",
            "-s",
            f"DIGEST_CA_BUNDLE={bundle}",
        )
    assert trusted.returncode == 0, trusted.stderr[-3000:]
    assert len(table(tmp_path / "trusted" / "papers.sqlite")) == 30
    assert site.requests == ["/robots.txt", "/papers/date/2026-07-31"]
    # A mirror is never sent the token, trusted or not.
    assert not any("Authorization" in headers for headers in site.headers)


def test_the_token_reaches_the_site_and_no_file_the_crawl_writes(tmp_path: Path) -> None:
    """With Scrapy's HTTP cache, a job directory, a log file and a feed: the
    token goes with each first-hand request to huggingface.co, and no file
    holds it (the cache keeps each request's headers; the raw answers kept
    as WARC each request), also for an answer that redirected (the redirect
    is cached as the request's answer)."""
    authority = Authority()
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(authority.certificate)
    workdir = tmp_path / "crawl"
    settings = [
        *("-s", f"DIGEST_CA_BUNDLE={bundle}", "-s", "HTTPCACHE_ENABLED=True"),
        *("-s", f"HTTPCACHE_DIR={workdir / 'httpcache'}"),
        *("-s", "JOBDIR=job", "-s", "LOG_FILE=crawl.log", "-s", "LOG_LEVEL=DEBUG"),
    ]
    with hub(authority.issue("huggingface.co"), tmp_path) as (site, proxy):
        site.routes["/papers/date/2026-07-13"] = redirect("/papers/date/2026-07-13/", 301)
        site.routes["/papers/date/2026-07-13/"] = page("listing-2026-07-13.html")
        for run, day in enumerate(["2026-07-31", "2026-07-13", "2026-07-31"]):
            result = crawl(
                HUB, workdir, "-a", f"date={day}", *settings, "-O", f"feed-{run}.jsonl", proxy=proxy
            )
            assert result.returncode == 0, (workdir / "crawl.log").read_text()[-3000:]
    sent = {
        path: headers.get("Authorization")
        for path, headers in zip(site.requests, site.headers, strict=True)
    }
    assert sent == {
        "/robots.txt": None,
        "/papers/date/2026-07-31": f"Bearer {TOKEN}",
        "/papers/date/2026-07-13": f"Bearer {TOKEN}",
        "/papers/date/2026-07-13/": None,  # a redirect followed: no token
    }
    assert site.requests.count("/papers/date/2026-07-31") == 1  # the third run: from the cache
    assert len(db_rows(workdir / "papers.sqlite", "SELECT * FROM listings")) == 30 + 14
    cached = [path for path in (workdir / "httpcache").rglob("request_headers")]
    assert len(cached) >= 3
    files = [path for path in workdir.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"papers.sqlite", "crawl.log", "request_headers"}
    # The raw answers kept (compressed WARC): each run's, the requests too.
    kept = sorted(path for path in files if path.name.endswith(".warc.gz"))
    assert len(kept) == 3
    assert b"GET /papers/date/2026-07-31 HTTP/1.1" in gzip.decompress(kept[0].read_bytes())
    for path in files:
        data = path.read_bytes()
        assert TOKEN.encode() not in (gzip.decompress(data) if path.suffix == ".gz" else data), path
