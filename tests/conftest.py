from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings
from scrapy.utils.reactor import install_reactor

from tests.support.site import LocalSite, serve

# CI runs the same examples every time: a red run means a real defect, and
# it can be reproduced. Locally hypothesis keeps exploring.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

# Scrapy's test helpers (get_crawler) need the reactor Scrapy would install.
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
POSTGRES_URL = os.environ.get(
    "DIGEST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _no_settings_from_the_developer_s_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the environment too (``config.Config``): a test
    does not read a ``DIGEST_DATABASE_URL`` or token of the shell it runs in."""
    from tests.support.cli import SETTING_VARIABLES

    for name in SETTING_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with serve() as local:
        yield local


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The PostgreSQL server of this machine, in a schema of its own per test.

    Skips where no server answers, unless DIGEST_REQUIRE_SERVICES=1 (CI),
    where that is a failure.
    """
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        engine.dispose()
        message = f"no PostgreSQL server at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
        if os.environ.get("DIGEST_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    schema = f"digest_test_{os.getpid()}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def archive_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An archive of 20 days of 50 papers and a week's list, inserted
    directly (tests/support/archive.py), on SQLite and on PostgreSQL."""
    from tests.support.archive import make_archive

    url = (
        f"sqlite:///{tmp_path / 'papers.sqlite'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    make_archive(url, days=20, per_day=50)
    return url


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist, a worker hands its figures to the controller."""
    from tests.support.report import RELIABILITY

    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["reliability"] = dict(RELIABILITY)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """The controller adds up its workers' figures (pytest-xdist's hook)."""
    from tests.support.report import RELIABILITY

    RELIABILITY.update(getattr(node, "workeroutput", {}).get("reliability", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.support.report import RELIABILITY

    if RELIABILITY:
        terminalreporter.section("reliability")
        for name in ("faults injected", "pages fuzzed", "rows lost", "rows doubled"):
            terminalreporter.write_line(f"{name}: {RELIABILITY[name]}")
