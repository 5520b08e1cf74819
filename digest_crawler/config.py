"""Every ``DIGEST_*`` setting, read and checked in one place.

``Config.from_settings`` reads them from Scrapy's settings (the defaults in
``settings.py``, ``-s NAME=VALUE`` on the command line) and the environment
(``DIGEST_DATABASE_URL=... scrapy export``; ``-s`` wins) into one validated
object, or raises a ``SettingError`` whose message is one line naming the
setting. The crawl and the readers use it; nothing else reads a
``DIGEST_*`` setting.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography import x509
from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

from digest_crawler.arguments import FIRST_DIGEST_DAY
from digest_crawler.dates import parse_iso_day
from digest_crawler.site.urls import check_base_url

#: The raw answers' index of kept payloads, in their folder (``raw.py``).
RAW_INDEX = "kept.jsonl"

_WHOLE_NUMBER = re.compile(r"^[0-9]+$")  # ASCII digits only
#: The backends the archive's upserts are written for.
BACKENDS = ("sqlite", "postgresql")
#: The largest CA bundle read (the system's whole store is about 220 KB).
CA_BUNDLE_MAX_BYTES = 16 * 1024 * 1024


class SettingError(ValueError):
    """A setting no run can use; the message is one line naming it."""


class Config(BaseModel):
    """The project's own settings (docs/settings.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The site, a mirror or a local server, without a trailing slash.
    base_url: str
    #: The archive: a SQLite or PostgreSQL SQLAlchemy URL.
    database_url: str
    #: The daily run's refresh schedule: days before today, nearest first.
    refresh: tuple[int, ...]
    #: The day a run takes as today (``None``: the UTC date).
    today: dt.date | None
    #: A run that reads today fails when the site's newest day is older.
    stale_days: int
    #: Most rows per upsert statement.
    batch_size: int
    #: Stats that make a crawl exit 1 when non-zero.
    failure_stats: tuple[str, ...]
    ratelimit_max_wait: float
    ratelimit_statuses: frozenset[int]
    ratelimit_margin: float
    api_delay: float
    #: A Hugging Face token (``DIGEST_HF_TOKEN``, else ``HF_TOKEN``); never shown.
    hf_token: SecretStr
    #: Seconds between progress lines; 0: none.
    progress_interval: float
    #: A PEM file of the CA certificates https answers are checked against,
    #: in place of the system's store (a private mirror's CA); ``None``: the system's.
    ca_bundle: Path | None
    #: Keep every answer read as WARC (``digest_crawler/raw.py``).
    raw_answers: bool
    #: Where: ``None`` is a ``raw`` folder beside the SQLite file (in the
    #: working folder for PostgreSQL).
    raw_dir: Path | None
    #: Ask the Hub what cites each paper a run reads (``/api/papers/{id}``).
    adoption: bool
    #: And the papers of the listing days this many days before today (the
    #: scheduled daily run only): adoption keeps growing after upvotes settle.
    adoption_tail: tuple[int, ...]
    #: The watch file of ``scrapy watch`` (TOML); ``None``: ``watches.toml``
    #: in the working folder, when there is one.
    watches: Path | None

    #: The settings whose value came from the environment (their field names).
    _from_environment: frozenset[str] = PrivateAttr(frozenset())

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Config:
        """The settings, checked; a ``SettingError`` naming the first bad one.

        A ``DIGEST_*`` variable of the environment replaces the value of
        ``settings.py`` (and any other below the project's priority); ``-s
        NAME=VALUE`` (and a spider's ``custom_settings``) win over it.
        """
        values: dict[str, Any] = {}
        from_environment = set()
        for name in cls.model_fields:
            setting = f"DIGEST_{name.upper()}"
            if (
                setting in os.environ
                and (settings.getpriority(setting) or 0) <= SETTINGS_PRIORITIES["project"]
            ):
                values[name] = os.environ[setting]
                from_environment.add(name)
            else:
                values[name] = settings.get(setting)
        values["hf_token"] = values["hf_token"] or os.environ.get("HF_TOKEN") or ""
        try:
            config = cls.model_validate(values)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            name = str(error["loc"][0])
            origin = "environment variable" if name in from_environment else "setting"
            message = error["msg"].removeprefix("Value error, ")
            raise SettingError(f"{origin} DIGEST_{name.upper()}: {message}") from None
        config._from_environment = frozenset(from_environment)
        return config

    def source(self, name: str) -> str:
        """Where the setting ``name`` (a field's) came from, as a message
        names it: ``setting DIGEST_NAME`` or ``environment variable DIGEST_NAME``."""
        origin = "environment variable" if name in self._from_environment else "setting"
        return f"{origin} DIGEST_{name.upper()}"

    @property
    def sqlite_file(self) -> Path | None:
        """The archive's SQLite file; ``None`` on PostgreSQL or for a SQLite
        URI (``?uri=true``), whose name is no plain path."""
        url = sa.engine.make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and "uri" not in url.query:
            return Path(url.database or "").expanduser().absolute()
        return None

    @property
    def raw_folder(self) -> Path | None:
        """Where the raw answers are kept; ``None`` when they are not."""
        if not self.raw_answers:
            return None
        if self.raw_dir is not None:
            return self.raw_dir
        database = self.sqlite_file
        return database.parent / "raw" if database is not None else Path("raw").absolute()

    @property
    def kept(self) -> list[tuple[Path, str]]:
        """The archive's own files, which no output may replace: its SQLite
        file and the raw answers' files, each with what a message calls it."""
        own = []
        database = self.sqlite_file  # (an in-memory one is refused with the settings)
        if database is not None:
            own.append((database, f"the archive itself ({self.source('database_url')})"))
        raw = self.raw_folder
        if raw is not None:  # (the folder may hold other files: only the raw answers' own)
            own.append((raw / RAW_INDEX, f"the raw answers' index ({self.source('raw_dir')})"))
            own.append((raw / "*.warc.gz", f"a file of raw answers ({self.source('raw_dir')})"))
        return own

    @property
    def horizon(self) -> int:
        """Days after which a read settles a listing day: the schedule's last."""
        return self.refresh[-1]

    @field_validator("base_url", mode="before")
    @classmethod
    def _base_url(cls, value: Any) -> str:
        return check_base_url(str(value or ""))

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: Any) -> str:
        check_database_url(str(value))
        return str(value)

    @field_validator("refresh", "adoption_tail", mode="before")
    @classmethod
    def _refresh(cls, value: Any) -> tuple[int, ...]:
        parts = value.strip().strip("[]").split(",") if isinstance(value, str) else value
        # ASCII digits, fewer than 6 (as -a refresh): int() reads other
        # scripts' digits, and no calendar reaches 3,000,000 days back.
        texts = [str(part).strip() for part in parts]
        if not all(_WHOLE_NUMBER.match(text) and len(text) < 6 for text in texts):
            texts = []
        days = sorted({int(text) for text in texts})
        if not days:
            raise ValueError(f"{value!r} is not a list of days before today (e.g. 0,1,2,3,7,14)")
        return tuple(days)

    @field_validator("today", mode="before")
    @classmethod
    def _today(cls, value: Any) -> dt.date | None:
        if value in (None, ""):
            return None
        day = value if isinstance(value, dt.date) else parse_iso_day(str(value))
        if day < FIRST_DIGEST_DAY:  # no run of that day has a day to read
            raise ValueError(f"{day} is before the first digest ({FIRST_DIGEST_DAY})")
        return day

    @field_validator("stale_days", mode="before")
    @classmethod
    def _stale_days(cls, value: Any) -> int:
        text = str(value).strip()
        if not _WHOLE_NUMBER.match(text) or len(text) > 6:
            raise ValueError(f"{value!r} is not a number of days")
        return int(text)

    @field_validator("batch_size", mode="before")
    @classmethod
    def _batch_size(cls, value: Any) -> int:
        text = str(value).strip()
        if not _WHOLE_NUMBER.match(text) or int(text) < 1:
            raise ValueError(f"{value!r} is not a number of rows: give at least 1")
        return int(text)

    @field_validator("failure_stats", mode="before")
    @classmethod
    def _failure_stats(cls, value: Any) -> tuple[str, ...]:
        names = value.split(",") if isinstance(value, str) else value
        return tuple(_renamed(str(name).strip()) for name in names if str(name).strip())

    @field_validator("ratelimit_max_wait", "ratelimit_margin", "api_delay", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> float:
        return _number(value, minimum=0.0)

    @field_validator("progress_interval", mode="before")
    @classmethod
    def _progress_interval(cls, value: Any) -> float:
        interval = _number(value, minimum=0.0)
        if 0 < interval < 0.1:
            raise ValueError(f"{interval:g} s would flood the log: give 0 (off) or at least 0.1")
        return interval

    @field_validator("ca_bundle", mode="before")
    @classmethod
    def _ca_bundle(cls, value: Any) -> Path | None:
        if value in (None, ""):
            return None
        path = Path(str(value)).expanduser()
        read_ca_bundle(path)
        return path

    @field_validator("raw_answers", "adoption", mode="before")
    @classmethod
    def _on_or_off(cls, value: Any) -> bool:
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0", "on", "off", "yes", "no"):
            raise ValueError(f"{value!r} is neither on nor off (give True or False)")
        return text in ("true", "1", "on", "yes")

    @field_validator("raw_dir", mode="before")
    @classmethod
    def _raw_dir(cls, value: Any) -> Path | None:
        if value in (None, ""):
            return None
        path = Path(str(value)).expanduser().absolute()
        # The folder, or the nearest folder it would be made in.
        existing = next(folder for folder in (path, *path.parents) if folder.exists())
        if not existing.is_dir():
            made = "" if existing == path else f"{str(path)!r} cannot be made: "
            raise ValueError(f"{made}{str(existing)!r} is not a directory")
        return path

    @field_validator("watches", mode="before")
    @classmethod
    def _watches(cls, value: Any) -> Path | None:
        # Read (and a missing file said) by scrapy watch alone: a crawl
        # does not fail for a watch file.
        return None if value in (None, "") else Path(str(value)).expanduser()

    @field_validator("ratelimit_statuses", mode="before")
    @classmethod
    def _statuses(cls, value: Any) -> frozenset[int]:
        parts: Sequence[Any] = value.split(",") if isinstance(value, str) else value
        try:
            statuses = {int(str(part).strip()) for part in parts}
        except (TypeError, ValueError):
            statuses = set()
        if not statuses or not all(100 <= code <= 599 for code in statuses):
            raise ValueError(f"{value!r} is not a list of HTTP statuses")
        return frozenset(statuses)


def _renamed(stat: str) -> str:
    """A stat by its name in this release: earlier ones said days where they
    meant listings (a week's or month's list too).

    >>> _renamed("digest/days_failed"), _renamed("digest/no_digest_days"), _renamed("digest/stale_days")
    ('digest/listings_failed', 'digest/no_digest_listings', 'digest/stale_days')
    """
    if stat.startswith("digest/days_"):
        return "digest/listings_" + stat.removeprefix("digest/days_")
    return "digest/no_digest_listings" if stat == "digest/no_digest_days" else stat


def _number(value: Any, minimum: float) -> float:
    """
    >>> _number("2.5", 0.0)
    2.5
    >>> _number("-1", 0.0)
    Traceback (most recent call last):
    ValueError: '-1' is not a number of at least 0
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not number >= minimum or math.isinf(number):
        raise ValueError(f"{value!r} is not a number of at least {minimum:g}")
    return number


def read_ca_bundle(path: Path) -> list[x509.Certificate]:
    """The certificates of a PEM CA bundle, or a one-line ``ValueError``: a
    path that is no regular file (a FIFO would block, ``/dev/zero`` never
    end), one that cannot be read, or a file that holds no PEM certificate."""
    shown = str(path)
    try:
        if not path.exists():
            raise ValueError(f"{shown!r}: no such file")
        if not path.is_file():
            raise ValueError(f"{shown!r} is not a regular file")
        with path.open("rb") as bundle:
            data = bundle.read(CA_BUNDLE_MAX_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read {shown!r}: {exc.strerror or exc}") from None
    if len(data) > CA_BUNDLE_MAX_BYTES:
        raise ValueError(f"{shown!r} is over {CA_BUNDLE_MAX_BYTES // 2**20} MB: no CA bundle")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise ValueError(f"{shown!r} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    return certificates


def check_database_url(url: str) -> None:
    """A one-line ``ValueError`` for a database URL no archive can be: not a
    URL, a backend the upserts are not written for, an in-memory SQLite
    database (a run would keep nothing), a directory. Makes nothing."""
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise ValueError(f"{url!r} is not a database URL") from None
    shown = parsed.render_as_string(hide_password=True)
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise ValueError(f"{shown!r}: {backend} is not supported (use {' or '.join(BACKENDS)})")
    _check_driver(parsed, shown)
    if backend != "sqlite":
        return
    if parsed.database in (None, "", ":memory:") or "mode=memory" in str(parsed.query):
        raise ValueError(f"{shown!r} is an in-memory database, which keeps nothing: name a file")
    if "uri" in parsed.query:
        return
    try:
        Path(parsed.database or "").expanduser().stat()
    except FileNotFoundError:
        return  # a new archive
    except OSError as exc:  # a name too long, a directory that cannot be searched
        raise ValueError(f"{shown!r}: {exc.strerror or exc}") from None
    if Path(parsed.database or "").expanduser().is_dir():
        raise ValueError(f"{shown!r} names a directory")


def _check_driver(parsed: sa.engine.URL, shown: str) -> None:
    """A one-line ``ValueError`` for a driver that is not installed (the
    ``postgresql`` extra), unknown, or written for asyncio."""
    try:
        dialect = parsed.get_dialect()
        dialect.import_dbapi()
    except sa.exc.NoSuchModuleError:
        raise ValueError(f"{shown!r}: SQLAlchemy knows no driver {parsed.drivername!r}") from None
    except ImportError as exc:
        extra = " (pip install -e '.[postgresql]')" if dialect.driver == "psycopg" else ""
        raise ValueError(f"{shown!r}: {exc}{extra}") from None
    if getattr(dialect, "is_async", False):
        raise ValueError(
            f"{shown!r}: {parsed.drivername} is an asyncio driver (use postgresql+psycopg)"
        )
