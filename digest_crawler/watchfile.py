"""The watch file of ``scrapy watch`` (``DIGEST_WATCHES``, TOML): one table
per watch, ``[watches.NAME]``, with its filter and where to send.

Read whole and checked before anything is sent: a file that is no TOML, a
key no watch has, a value of the wrong kind, a ``${NAME}`` of a notify URL
that the environment does not hold, or a URL no Apprise plugin takes is a
``WatchFileError`` whose message is one line naming the watch and the key.
A notify URL's secrets (an SMTP password) come from the environment
(``${SMTP_PASSWORD}``) and are never shown: a destination is named by
Apprise's private form of the URL.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from digest_crawler.outputs import notify
from digest_crawler.outputs.controls import quoted
from digest_crawler.paper import COUNT_MAX
from digest_crawler.storage.queries import PaperFilter
from digest_crawler.storage.schema import DESTINATION_LENGTH, WATCH_NAME_LENGTH
from digest_crawler.words import counted

#: The watch file read when ``DIGEST_WATCHES`` names none: in the working folder.
DEFAULT_FILE = Path("watches.toml")
#: A watch's name: what ``[watches.NAME]`` may say.
NAME = re.compile(rf"[\w.-]{{1,{WATCH_NAME_LENGTH}}}")
#: A variable of the environment in a notify URL.
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: The largest watch file read.
FILE_MAX_BYTES = 1024 * 1024

Text = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class WatchFileError(Exception):
    """A one-line reason the watch file cannot be used."""


#: A watch's filters: a paper matches them all.
FILTERS = (
    "query",
    "organization",
    "author",
    "min_upvotes",
    "min_models",
    "min_datasets",
    "min_spaces",
)


class Watch(BaseModel):
    """One ``[watches.NAME]`` table: its filter, where to send, how much."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    query: Text | None = Field(None, description="a full-text query, as scrapy search takes it")
    organization: Text | None = Field(None, description="only this organization (name or handle)")
    author: Text | None = Field(None, description="only papers with this author (the whole name)")
    min_upvotes: int | None = Field(
        None, ge=0, le=COUNT_MAX, description="only papers with at least this many upvotes"
    )
    min_models: int | None = Field(
        None, ge=0, le=COUNT_MAX, description="only papers at least this many models cite"
    )
    min_datasets: int | None = Field(
        None, ge=0, le=COUNT_MAX, description="only papers at least this many datasets cite"
    )
    min_spaces: int | None = Field(
        None, ge=0, le=COUNT_MAX, description="only papers at least this many Spaces cite"
    )
    notify: list[Annotated[str, StringConstraints(min_length=1)]] = Field(
        [], description="Apprise URLs: one message per run to each"
    )
    feed: Text | None = Field(None, description="an Atom file of the latest matches")
    limit: int = Field(20, ge=1, le=500, description="most papers listed in one message")
    feed_size: int = Field(50, ge=1, le=5000, description="the matches the feed holds")

    @property
    def chosen(self) -> PaperFilter:
        """The watch's filters that ``PaperFilter`` has (not the query, nor the author)."""
        return PaperFilter(
            **{name: getattr(self, name) for name in FILTERS if name in PaperFilter.model_fields}
        )


class WatchFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    watches: dict[str, Watch] = {}


@dataclass(frozen=True)
class Destination:
    """A notify URL of a watch: as written in the file, expanded (which may
    hold a secret: used to send only), and as shown (Apprise's private
    form: in lines, in the archive)."""

    written: str
    url: str
    shown: str
    #: The values the environment put in it, blanked from what is said.
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Watched:
    """A watch, checked: its name, its settings, its destinations."""

    name: str
    watch: Watch
    destinations: tuple[Destination, ...]

    @property
    def feed(self) -> Path | None:
        return None if self.watch.feed is None else Path(self.watch.feed).expanduser()


def read_watches(path: Path, environment: dict[str, str]) -> list[Watched]:
    """The watches of the file at ``path``, each checked, in the file's
    order; a ``WatchFileError`` (one line) for the first fault."""
    shown = quoted(str(path))
    notify.apprise()  # the watch extra: said first, whatever the file holds
    try:
        with path.open("rb") as file:
            data = file.read(FILE_MAX_BYTES + 1)
    except OSError as exc:
        raise WatchFileError(f"{shown}: cannot read it: {exc.strerror or exc}") from None
    if len(data) > FILE_MAX_BYTES:
        raise WatchFileError(f"{shown} is over {FILE_MAX_BYTES // 2**20} MB: no watch file")
    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise WatchFileError(f"{shown} is not TOML: {str(exc).splitlines()[0]}") from None
    try:
        watch_file = WatchFile.model_validate(parsed)
    except ValidationError as exc:
        raise WatchFileError(f"{shown}: {_named(exc)}") from None
    if not watch_file.watches:
        raise WatchFileError(f"{shown} holds no watch (a table [watches.NAME] for each)")
    return [_checked(shown, name, watch, environment) for name, watch in watch_file.watches.items()]


def _named(exc: ValidationError) -> str:
    """The first error of the file's model, naming the watch and the key."""
    error = exc.errors(include_url=False)[0]
    location = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
        if len(location) > 2:
            message += f" (a watch's keys: {', '.join(Watch.model_fields)})"
    if location[:1] != ["watches"]:
        return f"key {location[0]!r}: {message} (the file holds [watches.NAME] tables)"
    if len(location) < 3:
        return f"[watches]: {message} (a table [watches.NAME] for each watch)"
    key = location[2] + "".join(f"[{part}]" for part in location[3:])
    return f"[watches.{location[1]}] {key}: {message}"


def _checked(shown: str, name: str, watch: Watch, environment: dict[str, str]) -> Watched:
    where = f"{shown}: [watches.{name}]"
    if not NAME.fullmatch(name):
        raise WatchFileError(
            f"{where}: a watch's name is letters, digits, '.', '-' and '_',"
            f" at most {WATCH_NAME_LENGTH} characters"
        )
    if not watch.notify and watch.feed is None:
        raise WatchFileError(f"{where}: neither notify nor feed: nothing to do")
    destinations: dict[str, Destination] = {}
    for written in watch.notify:
        destination = _destination(f"{where} notify", written, environment)
        destinations.setdefault(destination.shown, destination)
    return Watched(name, watch, tuple(destinations.values()))


def _destination(where: str, written: str, environment: dict[str, str]) -> Destination:
    """A notify URL expanded from the environment, and Apprise's private
    form of it (with the query parameters the URL gives)."""
    secrets = []

    def value(match: re.Match[str]) -> str:
        variable = match[1]
        if variable not in environment:
            raise WatchFileError(f"{where}: the environment has no variable {variable}")
        secrets.append(environment[variable])
        return environment[variable]

    url = VARIABLE.sub(value, written)
    private = notify.private_form(url)
    if private is None:
        raise WatchFileError(
            f"{where}: {quoted(masked(written))} is no URL Apprise knows (see its list of"
            " services: mailto://, json://, slack://, ntfy://, ...)"
        )
    private = notify.blanked(as_written(private, url), tuple(secrets))
    if len(private) > DESTINATION_LENGTH:
        raise WatchFileError(
            f"{where}: {quoted(private[:80] + '…')} is over {DESTINATION_LENGTH} characters"
        )
    return Destination(written, url, private, tuple(secrets))


def as_written(private: str, url: str) -> str:
    """Apprise's private form of ``url`` with only the query parameters
    ``url`` gives: those Apprise adds with their defaults (``retry=0``,
    ``overflow=upstream``, ...) change from one release of Apprise to the
    next, and a destination's name must not (it is what the archive keeps).

    >>> as_written("json://h/hook?method=POST&retry=0&+X-Key=****", "json://h/hook?+x-key=s3")
    'json://h/hook?+X-Key=****'
    >>> as_written("mailto://u:****@h/to%40x.org?cto=15.0&from=a%40x.org", "mailto://u:p@h?to=to@x.org&from=a@x.org")
    'mailto://u:****@h/to%40x.org?from=a%40x.org'
    """
    given = {_key(item) for item in urlsplit(url).query.split("&") if item}
    head, _, query = private.partition("?")
    kept = [item for item in query.split("&") if item and _key(item) in given]
    return head + ("?" + "&".join(kept) if kept else "")


def _key(item: str) -> str:
    return unquote(item.partition("=")[0]).lower()


def masked(url: str) -> str:
    """A URL Apprise cannot read, shown: its password (``user:password@``)
    as ``****``; a ``${NAME}`` is shown as written.

    >>> masked("bogus://me:s3cr3t@host/path"), masked("nope://${TOKEN}@host")
    ('bogus://me:****@host/path', 'nope://${TOKEN}@host')
    """
    return re.sub(r"(://[^/@:]*:)[^@/]*@", r"\1****@", url)


def default_or(path: Path | None) -> tuple[Path, bool]:
    """The watch file to read, and whether it was named (``DIGEST_WATCHES``)
    rather than the default."""
    return (path, True) if path is not None else (DEFAULT_FILE, False)


def described(watch: Watch) -> str:
    """A watch's filter as a person reads it.

    >>> described(Watch(query="agent*", organization="Kling Team", min_upvotes=5, feed="x"))
    "query 'agent*', organization Kling Team, at least 5 upvotes"
    >>> described(Watch(feed="x"))
    'every paper'
    """
    parts = []
    if watch.query is not None:
        parts.append(f"query {quoted(watch.query)}")
    if watch.organization is not None:
        parts.append(f"organization {watch.organization}")
    if watch.author is not None:
        parts.append(f"author {watch.author}")
    if watch.min_upvotes is not None:
        parts.append(f"at least {counted(watch.min_upvotes, 'upvote')}")
    for name, noun in (("models", "model"), ("datasets", "dataset"), ("spaces", "Space")):
        least = getattr(watch, f"min_{name}")
        if least is not None:
            parts.append(f"cited by at least {counted(least, noun)}")
    return ", ".join(parts) or "every paper"
