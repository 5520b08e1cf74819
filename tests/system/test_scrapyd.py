"""Scrapyd, for real: deploy the project with scrapyd-deploy as README says,
schedule crawls of the local test site, and read their outcomes."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import PROJECT, clean_env, table
from tests.support.site import LocalSite, serve
from tests.support.tls import Authority, hub_proxy

pytestmark = pytest.mark.system  # the real commands, in subprocesses

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def call(url: str, data: dict[str, Any] | list[tuple[str, str]] | None = None) -> Any:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=30) as answer:
        return json.loads(answer.read())


def start_scrapyd(
    home: Path, token_file: Path | None = None, environment: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Scrapyd on a free loopback port, with ``environment`` added to its
    environment; with ``token_file``, started as README says, the token
    read into its environment (HF_TOKEN). Scrapyd takes its port from its
    configuration only (0 there means no web service), so a port is picked
    first; when another process (another pytest-xdist worker's server, an
    outgoing connection) takes it before Scrapyd binds it, Scrapyd exits and
    it is started again on another port."""
    for _ in range(5):
        port = free_port()
        (home / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
            f"eggs_dir = {home / 'eggs'}\nlogs_dir = {home / 'logs'}\ndbs_dir = {home / 'dbs'}\n"
            "items_dir =\nmax_proc = 1\npoll_interval = 0.2\n"
        )
        command = [str(BIN / "scrapyd")]
        if token_file is not None:
            command = ["/bin/sh", "-c", f'HF_TOKEN="$(cat {token_file})" exec {BIN / "scrapyd"}']
        server = subprocess.Popen(
            command,
            cwd=home,
            env={**clean_env(), **(environment or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while server.poll() is None and time.monotonic() < deadline:
            try:
                # Scrapyd's own answer, not another server's on the same port.
                if call(f"{url}/daemonstatus.json").get("status") == "ok":
                    return server, url
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        if server.poll() is None:  # up, but no answer in time
            server.terminate()
            server.wait(timeout=30)
            pytest.fail("Scrapyd did not start")
    pytest.fail("Scrapyd could not bind a free port")


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A Scrapyd on a loopback port, with the project deployed to it by
    scrapyd-deploy from a copy of the checkout."""
    with deployed_scrapyd(tmp_path) as found:
        yield found


@contextmanager
def deployed_scrapyd(
    tmp_path: Path, token_file: Path | None = None, environment: dict[str, str] | None = None
) -> Iterator[tuple[str, Path]]:
    home = tmp_path / "scrapyd"
    home.mkdir()
    server, url = start_scrapyd(home, token_file, environment)
    try:
        checkout = tmp_path / "checkout"
        shutil.copytree(
            PROJECT,
            checkout,
            # What tests write while they run (other pytest-xdist workers
            # among them) is not the project, and a file that goes away
            # while it is copied would fail the copy.
            ignore=shutil.ignore_patterns(
                ".venv",
                ".git",
                "__pycache__",
                "*.sqlite*",
                "build",
                "*.egg-info",
                ".hypothesis",
                ".pytest_cache",
                ".ruff_cache",
                ".mypy_cache",
                "artifacts",
            ),
        )
        config = (checkout / "scrapy.cfg").read_text()
        (checkout / "scrapy.cfg").write_text(config.replace("http://localhost:6800/", f"{url}/"))
        deployed = subprocess.run(
            [str(BIN / "scrapyd-deploy")], cwd=checkout, capture_output=True, text=True, timeout=300
        )
        assert deployed.returncode == 0, deployed.stderr[-3000:]
        assert json.loads(deployed.stdout.strip().splitlines()[-1])["status"] == "ok"
        yield url, home
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_job(url: str, *fields: tuple[str, str]) -> str:
    job = call(
        f"{url}/schedule.json", [("project", "digest_crawler"), ("spider", "daily"), *fields]
    )
    assert job["status"] == "ok", job
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        jobs = call(f"{url}/listjobs.json?project=digest_crawler")
        if any(finished["id"] == job["jobid"] for finished in jobs["finished"]):
            return str(job["jobid"])
        time.sleep(0.3)
    pytest.fail("the job did not finish")


def test_a_crawl_deployed_to_scrapyd_stores_where_it_is_told_and_says_how_it_ended(
    site: LocalSite, scrapyd: tuple[str, Path], tmp_path: Path
) -> None:
    url, home = scrapyd
    archive = tmp_path / "archive" / "papers.sqlite"
    archive.parent.mkdir()
    settings = [
        ("setting", f"DIGEST_BASE_URL={site.url}"),
        ("setting", f"DIGEST_DATABASE_URL=sqlite:///{archive}"),
        ("setting", "DOWNLOAD_DELAY=0"),
        ("setting", "AUTOTHROTTLE_ENABLED=False"),
        # The local site answers at once: its API calls (what cites each paper) need no pace.
        ("setting", "DIGEST_API_DELAY=0"),
    ]
    job = run_job(url, ("date", "2026-07-31"), *settings)
    assert len(table(archive)) == 30
    log = (home / "logs" / "digest_crawler" / "daily" / f"{job}.log").read_text()
    assert (
        log.rstrip()
        .splitlines()[-1]
        .endswith(
            "scrapy crawl daily: OK: 1 of 1 day stored (30 papers, 0 rejected), 0 without a digest,"
            " 0 failed; the Hub asked what cites 30 papers (30 not indexed, 0 rejected, 0 failed)"
        )
    )

    # A day that fails: the outcome is in the job's log, last line, and in the ledger.
    job = run_job(url, ("date", "2026-03-03"), *settings)  # the test site has no such page
    log = (home / "logs" / "digest_crawler" / "daily" / f"{job}.log").read_text()
    assert "scrapy crawl daily: FAILED: 0 of 1 day stored" in log.rstrip().splitlines()[-1]
    runs = table(archive, "crawl_runs")
    assert (runs[-1]["listings_failed"], runs[-1]["complete"]) == (1, 0)

    # A bad argument: refused before anything, and said in the job's log.
    job = run_job(url, ("date", "yesterday"), *settings)
    log = (home / "logs" / "digest_crawler" / "daily" / f"{job}.log").read_text()
    assert "scrapy crawl daily: error: argument date: 'yesterday' is not a date" in log
    assert len(table(archive, "crawl_runs")) == 2


def test_a_token_in_scrapyd_s_environment_reaches_the_site_and_no_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README's recipe: the token read into Scrapyd's environment; the job
    sends it to huggingface.co (here a local server that a proxy hands the
    connection to, trusted through DIGEST_CA_BUNDLE) and no file of
    Scrapyd's holds it. Given as a setting= instead, the job's log warns.
    The archive is named in Scrapyd's environment too: the jobs store there."""
    token = "hf_scrapydsecret0123456789"
    token_file = tmp_path / "hf_token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    authority = Authority()
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(authority.certificate)
    archive = tmp_path / "archive" / "papers.sqlite"
    archive.parent.mkdir()
    settings = [
        ("setting", f"DIGEST_CA_BUNDLE={bundle}"),
        ("setting", "DOWNLOAD_DELAY=0"),
        ("setting", "AUTOTHROTTLE_ENABLED=False"),
        # The local site answers at once: its API calls (what cites each paper) need no pace.
        ("setting", "DIGEST_API_DELAY=0"),
    ]
    with (
        serve(tls=authority.issue("huggingface.co").context(tmp_path)) as site,
        hub_proxy(site.address) as proxy,
    ):
        monkeypatch.setenv("https_proxy", proxy.url)  # Scrapyd's environment, and so its jobs'
        with deployed_scrapyd(
            tmp_path, token_file, {"DIGEST_DATABASE_URL": f"sqlite:///{archive}"}
        ) as (url, home):
            job = run_job(url, ("date", "2026-07-31"), *settings)
            log = (home / "logs" / "digest_crawler" / "daily" / f"{job}.log").read_text()
            assert (
                log.rstrip()
                .splitlines()[-1]
                .endswith(
                    "OK: 1 of 1 day stored (30 papers, 0 rejected), 0 without a digest, 0 failed;"
                    " the Hub asked what cites 30 papers (30 not indexed, 0 rejected, 0 failed)"
                )
            )
            assert (
                site.headers[site.requests.index("/papers/date/2026-07-31")]["Authorization"]
                == f"Bearer {token}"
            )
            assert "DIGEST_HF_TOKEN was given on the command line" not in log
            for path in home.rglob("*"):
                assert not path.is_file() or token.encode() not in path.read_bytes(), path

            job = run_job(
                url, ("date", "2026-07-31"), *settings, ("setting", "DIGEST_HF_TOKEN=hf_other")
            )
            log = (home / "logs" / "digest_crawler" / "daily" / f"{job}.log").read_text()
            assert (
                "DIGEST_HF_TOKEN was given on the command line: it shows in the process list" in log
            )
    assert len(table(archive)) == 30
