"""Every DIGEST_* setting read and checked in one place (``config.py``)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from scrapy.settings import Settings

from digest_crawler.config import CA_BUNDLE_MAX_BYTES, Config, SettingError
from tests.support.tls import Authority, self_signed


def settings(**overrides: str) -> Settings:
    loaded = Settings()
    loaded.setmodule("digest_crawler.settings", priority="project")
    for name, value in overrides.items():
        loaded.set(name, value, priority="cmdline")  # as -s NAME=VALUE gives them: text
    return loaded


def test_the_defaults_are_usable() -> None:
    config = Config.from_settings(settings())
    assert config.base_url == "https://huggingface.co"
    assert config.refresh == (0, 1, 2, 3, 7, 14) and config.horizon == 14
    assert (config.today, config.stale_days, config.batch_size) == (None, 4, 500)
    assert config.ratelimit_statuses == {429, 503}
    assert "digest/listings_failed" in config.failure_stats


def test_values_from_the_command_line_are_read_as_their_types() -> None:
    config = Config.from_settings(
        settings(
            DIGEST_BASE_URL="http://127.0.0.1:8080/mirror/",
            DIGEST_REFRESH="7, 0,1",
            DIGEST_TODAY="2026-07-31",
            DIGEST_API_DELAY="0.5",
            DIGEST_RATELIMIT_STATUSES="429,503,502",
            DIGEST_FAILURE_STATS="digest/listings_failed,digest/stale_days",
        )
    )
    assert config.base_url == "http://127.0.0.1:8080/mirror"
    assert config.refresh == (0, 1, 7) and config.today == dt.date(2026, 7, 31)
    assert config.api_delay == 0.5 and config.ratelimit_statuses == {429, 502, 503}
    assert config.failure_stats == ("digest/listings_failed", "digest/stale_days")


def test_the_token_comes_from_the_setting_or_the_environment_and_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_environment")
    assert Config.from_settings(settings()).hf_token.get_secret_value() == "hf_from_the_environment"
    config = Config.from_settings(settings(DIGEST_HF_TOKEN="hf_from_a_setting"))
    assert config.hf_token.get_secret_value() == "hf_from_a_setting"
    assert "hf_from" not in repr(config) and "hf_from" not in str(config)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DIGEST_BASE_URL", "ftp://x", "setting DIGEST_BASE_URL: 'ftp://x' is not an http(s) URL"),
        (
            "DIGEST_DATABASE_URL",
            "nonsense",
            "setting DIGEST_DATABASE_URL: 'nonsense' is not a database URL",
        ),
        ("DIGEST_DATABASE_URL", "mysql://a@127.0.0.1/x", "mysql is not supported"),
        ("DIGEST_DATABASE_URL", "sqlite://", "is an in-memory database"),
        # A name the system refuses: an OSError traceback in every command before.
        ("DIGEST_DATABASE_URL", f"sqlite:///{'a' * 300}.sqlite", "File name too long"),
        ("DIGEST_DATABASE_URL", "postgresql+nope://u@h/x", "SQLAlchemy knows no driver"),
        ("DIGEST_DATABASE_URL", "postgresql://u@h:port/x", "is not a database URL"),
        ("DIGEST_REFRESH", "", "setting DIGEST_REFRESH: '' is not a list of days"),
        ("DIGEST_REFRESH", "-1", "setting DIGEST_REFRESH: '-1' is not a list of days"),
        # Days no calendar reaches back to (an OverflowError traceback before),
        # and other scripts' digits.
        ("DIGEST_REFRESH", "0,3000000", "setting DIGEST_REFRESH: '0,3000000' is not a list of"),
        ("DIGEST_REFRESH", "0," + "9" * 30, "is not a list of days"),
        ("DIGEST_REFRESH", "0,\u0663", "setting DIGEST_REFRESH: '0,\u0663' is not a list of"),
        ("DIGEST_TODAY", "2026-02-30", "setting DIGEST_TODAY: '2026-02-30' is not a valid date"),
        ("DIGEST_TODAY", "0001-01-05", "setting DIGEST_TODAY: 0001-01-05 is before the first"),
        (
            "DIGEST_STALE_DAYS",
            "\u0664",
            "setting DIGEST_STALE_DAYS: '\u0664' is not a number of days",
        ),
        ("DIGEST_BATCH_SIZE", "0", "setting DIGEST_BATCH_SIZE: '0' is not a number of rows"),
        (
            "DIGEST_API_DELAY",
            "inf",
            "setting DIGEST_API_DELAY: 'inf' is not a number of at least 0",
        ),
        (
            "DIGEST_RATELIMIT_MARGIN",
            "nan",
            "setting DIGEST_RATELIMIT_MARGIN: 'nan' is not a number",
        ),
        (
            "DIGEST_RATELIMIT_STATUSES",
            "99",
            "setting DIGEST_RATELIMIT_STATUSES: '99' is not a list",
        ),
        ("DIGEST_PROGRESS_INTERVAL", "0.01", "0.01 s would flood the log"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingError) as caught:
        Config.from_settings(settings(**{name: value}))
    assert str(caught.value).startswith(f"setting {name}: ") and message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_environment_replaces_the_defaults_and_the_command_line_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``DIGEST_DATABASE_URL=... scrapy export`` read ./papers.sqlite before."""
    monkeypatch.setenv("DIGEST_DATABASE_URL", "sqlite:////srv/archive.sqlite")
    monkeypatch.setenv("DIGEST_REFRESH", "0,1")
    monkeypatch.setenv("DIGEST_REQUIRE_SERVICES", "1")  # CI's, no setting: not read
    config = Config.from_settings(settings(DIGEST_REFRESH="7"))
    assert config.database_url == "sqlite:////srv/archive.sqlite" and config.refresh == (7,)
    assert config.source("database_url") == "environment variable DIGEST_DATABASE_URL"
    assert config.source("refresh") == "setting DIGEST_REFRESH"
    assert Config.from_settings(settings()).refresh == (0, 1)


@pytest.mark.parametrize(
    ("name", "value", "message", "good"),
    [
        ("DIGEST_DATABASE_URL", "nonsense", "'nonsense' is not a database URL", "sqlite:///a.db"),
        ("DIGEST_STALE_DAYS", "soon", "'soon' is not a number of days", "4"),
        ("DIGEST_BASE_URL", "", "is not an http(s) URL", "http://127.0.0.1:8080"),
    ],
)
def test_a_bad_value_in_the_environment_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str, good: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError) as caught:
        Config.from_settings(settings())
    assert str(caught.value).startswith(f"environment variable {name}: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    # Given on the command line, the environment's is not read.
    assert Config.from_settings(settings(**{name: good})).source(name[7:].lower()) == (
        f"setting {name}"
    )


def test_a_database_driver_that_is_not_installed_is_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as without the postgresql extra
    with pytest.raises(SettingError) as caught:
        Config.from_settings(settings(DIGEST_DATABASE_URL="postgresql+psycopg://u:pw@h/x"))
    assert str(caught.value) == (
        "setting DIGEST_DATABASE_URL: 'postgresql+psycopg://u:***@h/x': import of psycopg halted;"
        " None in sys.modules (pip install -e '.[postgresql]')"
    )


def test_a_ca_bundle_is_a_readable_pem_file_of_certificates(tmp_path: Path) -> None:
    bundle = tmp_path / "mirror-ca.pem"
    bundle.write_bytes(Authority().certificate + Authority("another CA").certificate)
    assert Config.from_settings(settings()).ca_bundle is None  # the system's store
    assert Config.from_settings(settings(DIGEST_CA_BUNDLE=str(bundle))).ca_bundle == bundle


def written(content: bytes) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        path.write_bytes(content)
        return path

    return write


def directory(path: Path) -> Path:
    path.mkdir()
    return path


def fifo(path: Path) -> Path:
    os.mkfifo(path)  # reading it would block the crawl before it starts
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path: path, "no such file"),
        (directory, "is not a regular file"),
        (lambda path: Path("/dev/zero"), "'/dev/zero' is not a regular file"),
        (fifo, "is not a regular file"),
        (written(b""), "holds no PEM certificate"),
        (written(b"\x00" * 100), "holds no PEM certificate"),
        (written(self_signed("x").key), "holds no PEM certificate"),  # a key, no certificate
        (
            written(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"),
            "holds no PEM certificate",
        ),
        (written(b" " * (CA_BUNDLE_MAX_BYTES + 1)), "is over 16 MB"),
    ],
    ids=[
        "missing",
        "a directory",
        "a device",
        "a FIFO",
        "empty",
        "binary",
        "a key",
        "broken PEM",
        "huge",
    ],
)
def test_an_unusable_ca_bundle_is_one_line_naming_the_setting(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    path = make(tmp_path / "ca.pem")
    with pytest.raises(SettingError) as caught:
        Config.from_settings(settings(DIGEST_CA_BUNDLE=str(path)))
    assert str(caught.value).startswith("setting DIGEST_CA_BUNDLE: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)
