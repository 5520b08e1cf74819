"""What the commands that read the archive (export, search, report) share.

Each command's options are one pydantic model: its fields are the options
(argparse is built from them: the flag, the help from the description, the
default from the model), its validators the rules, and a bad value is one
line naming the option, exit status 2. ``ReaderCommand`` runs a reader:
parse the options, hand them over, say what went wrong in one line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import re
import sys
import typing
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from scrapy.commands import ScrapyCommand
from sqlalchemy.engine import Connection

from digest_crawler.config import Config, SettingError
from digest_crawler.dates import parse_iso_day, to_moment
from digest_crawler.outputs.controls import escaped
from digest_crawler.outputs.files import OutputError, ReaderGone, check_target
from digest_crawler.outputs.formats import FormatError
from digest_crawler.outputs.notify import NotifyError
from digest_crawler.paper import COUNT_MAX, kind_of
from digest_crawler.storage.queries import ArchiveError, PaperFilter, list_is_stored
from digest_crawler.storage.search import SearchError
from digest_crawler.watchfile import WatchFileError

Options = TypeVar("Options", bound=BaseModel)


class OptionError(Exception):
    """A one-line reason the command's options cannot be used."""


def option(default: Any, help: str, metavar: str | None = None, flag: str | None = None) -> Any:
    """A field that is a command-line option: ``--name-of-field`` (or
    ``flag``), with ``help`` and ``metavar``."""
    return Field(default, description=help, json_schema_extra={"metavar": metavar, "flag": flag})


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def flags(name: str, info: FieldInfo) -> list[str]:
    """The option's flags: ``--min-upvotes``, or the field's own (``-o``)."""
    flag = _extra(info).get("flag")
    long = f"--{name.replace('_', '-')}"
    if isinstance(flag, str):
        return [flag] if flag.startswith("--") else [flag, long]
    return [long]


def add_options(parser: argparse.ArgumentParser, model: type[BaseModel], title: str) -> None:
    """An argparse option per field of ``model`` (but ``positional`` ones)."""
    group = parser.add_argument_group(title)
    for name, info in model.model_fields.items():
        if _extra(info).get("positional") or _extra(info).get("hidden"):
            continue
        help_text = info.description or ""
        if info.default not in (None, False, ""):
            help_text += f" (default: {info.default})"
        if kind_of(info.annotation).type is bool:
            group.add_argument(*flags(name, info), dest=name, action="store_true", help=help_text)
        else:
            metavar = _extra(info).get("metavar") or _metavar(info)
            group.add_argument(*flags(name, info), dest=name, metavar=metavar, help=help_text)


def _metavar(info: FieldInfo) -> str:
    kind = kind_of(info.annotation).type
    if typing.get_origin(kind) is typing.Literal:
        return "|".join(map(str, typing.get_args(kind)))
    names = {dt.date: "YYYY-MM-DD", dt.datetime: "TIMESTAMP", int: "N"}
    return names.get(kind, "TEXT")


def given(opts: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    """The options given on the command line (not left at their default)."""
    values = {name: getattr(opts, name, None) for name in model.model_fields}
    return {name: value for name, value in values.items() if value not in (None, False)}


def validate(model: type[Options], values: dict[str, Any]) -> Options:
    """``values`` as ``model``; an ``OptionError`` naming the option otherwise."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:  # a rule across options names its options itself
            raise OptionError(f"option {message}") from None
        name = str(error["loc"][0])
        shown = flags(name, model.model_fields[name])[-1] if name in model.model_fields else name
        raise OptionError(f"option {shown}: {message}") from None


class ReaderOptions(PaperFilter):
    """``PaperFilter`` from command-line text, with the rules across options."""

    @field_validator("since", "until", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        return parse_iso_day(value) if isinstance(value, str) else value

    @field_validator("changed_since", mode="before")
    @classmethod
    def _moment(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                if len(value.strip()) == 10:
                    day = parse_iso_day(value)
                    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
                return to_moment(value)
            except (ValueError, OverflowError):
                raise ValueError(
                    f"{value!r} is not a timestamp (expected ISO 8601, e.g. 2026-07-31T12:00:00Z)"
                ) from None
        return value

    @field_validator("min_upvotes", "min_models", "min_datasets", "min_spaces", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not re.fullmatch(r"[0-9]+", text):
                raise ValueError(f"{value!r} is not a whole number")
            if len(text) > 18:
                raise ValueError(f"{text[:12]}... is more than any count ({COUNT_MAX})")
        return value

    @model_validator(mode="after")
    def _one_span_one_list(self) -> ReaderOptions:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"--since: {self.since} is after --until {self.until}")
        if self.week and self.month:
            raise ValueError("--week and --month: give one list, not both")
        return self


class ReaderCommand(ScrapyCommand, Generic[Options]):
    """A command that reads the archive (``DIGEST_DATABASE_URL``) with the
    options of ``options_model``; ``execute`` does the work and returns the
    summary line for standard error."""

    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}
    options_model: type[Options]

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        add_options(parser, self.options_model, self.name)

    @property
    def name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]

    def syntax(self) -> str:
        return "[options]"

    def options(self, args: list[str], opts: argparse.Namespace) -> Options:
        """The options, from the command line (arguments are refused)."""
        if args:
            raise OptionError(f"unexpected argument {args[0]!r} (see scrapy {self.name} -h)")
        return validate(self.options_model, given(opts, self.options_model))

    def execute(self, options: Options) -> str:
        raise NotImplementedError

    def left_when_interrupted(self, options: Options | None) -> str:
        """What Ctrl-C left: a file is whole or not written
        (outputs.files); the archive was only read."""
        output = getattr(options, "output", "-")
        return f"{output!r} not written" if output != "-" else "no more to standard output"

    def note(self, text: str) -> None:
        """A line for the person who asked, on standard error."""
        say(f"scrapy {self.name}: note: {text}")

    def note_a_missing_list(self, connection: Connection, chosen: PaperFilter) -> None:
        """A week's or month's list the archive does not hold chooses no
        paper: said, with the ways to get its papers."""
        period = chosen.period
        if period is not None and not list_is_stored(connection, period):
            self.note(
                f"no list of the {period.kind} {period} is stored (crawl it with scrapy crawl"
                f" daily -a {period.kind}={period}; its days: --since {period.start}"
                f" --until {period.end})"
            )

    @functools.cached_property
    def config(self) -> Config:
        assert self.settings is not None
        return Config.from_settings(self.settings)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        options: Options | None = None
        try:
            self.config  # noqa: B018 - the settings are checked first
            options = self.options(args, opts)
            check_target(getattr(options, "output", "-"), self.config.kept)
            summary = self.execute(options)
        except KeyboardInterrupt:
            say(f"scrapy {self.name}: interrupted; {self.left_when_interrupted(options)}")
            self.exitcode = 130
            return
        except (
            SettingError,
            OptionError,
            ArchiveError,
            FormatError,
            OutputError,
            SearchError,
            WatchFileError,
            NotifyError,
        ) as exc:
            say(f"scrapy {self.name}: error: {exc}")
            self.exitcode = 2
            return
        except ReaderGone:
            say(f"scrapy {self.name}: stopped: standard output was closed by its reader")
            return
        say(summary)


def say(line: str) -> None:
    """``line`` on standard error, for a person: what it quotes of the
    archive or the command line cannot act on their terminal (a control
    character or bidi mark is escaped)."""
    print(escaped(line), file=sys.stderr)


def span_text(first: dt.date | None, last: dt.date | None) -> str:
    """
    >>> span_text(dt.date(2026, 7, 1), None), span_text(None, None)
    ('from 2026-07-01', 'every listing day')
    >>> span_text(dt.date(9999, 12, 31), dt.date(2026, 8, 2))
    'no day: 9999-12-31 is after 2026-08-02'
    """
    if first and last and first > last:
        return f"no day: {first} is after {last}"
    if first and last:
        return f"{first} to {last}"
    if first:
        return f"from {first}"
    if last:
        return f"until {last}"
    return "every listing day"
