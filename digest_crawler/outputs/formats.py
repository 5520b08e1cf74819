"""The formats ``scrapy export`` writes: one small writer per format, all fed
by the same stream of records (``records.Record``: ``FeedRecord``'s fields
as a dict), each writing bytes to a stream.

- ``jsonl``: one record per line (``records.dumps``), the default.
- ``csv``: a header of the record's fields, then a row per record; lists as
  JSON text, dates ISO, moments ISO 8601 with a ``Z``, null an empty cell,
  a text that would be a spreadsheet's formula neutralized (``csv_cell``).
- ``parquet``: the same columns with Arrow types (``date32``, UTC
  timestamps, lists, strings), written a row group per chunk of records.
- ``atom``, ``rss``, ``jsonfeed``: one entry per paper, its page's URL as
  its id; the feed's ``updated`` is the newest ``scraped_at`` exported (or
  the epoch for an empty feed), never "now": two exports of the same data
  are byte-identical. Every format streams: Atom and RSS are written entry
  by entry with lxml (the bytes feedgen wrote of the whole tree, which held
  26 KB of memory a paper).

A writer imports what only it needs (lxml, pyarrow) when called: a command
that writes no feed does not load it, and a missing extra (pyarrow) is a
one-line error, not an import failure.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.utils import format_datetime
from itertools import islice
from pathlib import PurePath
from typing import IO, Any

from pydantic import BaseModel

from digest_crawler.outputs.records import (
    HISTORY_FIELDS,
    FeedRecord,
    Record,
    dumps,
    json_value,
    one_line,
)
from digest_crawler.paper import Kind, field_kinds
from digest_crawler.periods import Period
from digest_crawler.storage.queries import PaperFilter
from digest_crawler.words import counted

#: Every format, the default first.
FORMATS = ("jsonl", "csv", "parquet", "atom", "rss", "jsonfeed")
#: The format an output file's extension implies (a name without one: jsonl).
EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".atom": "atom",
    ".rss": "rss",
}
#: The formats that are a feed a reader subscribes to (newest listing first).
FEEDS = ("atom", "rss", "jsonfeed")
#: The formats written from records in their JSON form (``records.json_record``).
JSON_FORM = ("jsonl", "csv")
#: The moment of an empty feed: data-derived times only, so that two exports
#: of the same (here: no) papers are byte-identical.
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: How a CSV cell a spreadsheet runs as a formula starts (OWASP's CSV
#: injection list: = + - @ tab and carriage return; and the full-width forms
#: some spreadsheets read as the same).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: The Atom namespace, and RSS's content module (an item's ``content:encoded``).
ATOM = "http://www.w3.org/2005/Atom"
RSS_CONTENT = "http://purl.org/rss/1.0/modules/content/"
#: What the Atom and RSS feeds name as their author and as what wrote them.
FEED_AUTHOR = "Hugging Face Daily Papers"
GENERATOR = "digest_crawler"
#: The bytes of a feed's entries held in memory before they spill to a
#: temporary file (the head, written first, needs them all read).
SPOOL_IN_MEMORY = 8 * 2**20
#: Records per Parquet row group: bounds the memory a large export holds.
PARQUET_CHUNK = 10_000
# Characters XML 1.0 has no place for (a page's text may hold them; a
# surrogate only where something other than a crawl wrote the archive).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class FormatError(Exception):
    """A one-line reason the format cannot be written (a missing extra)."""


@dataclass(frozen=True)
class About:
    """What a writer needs to know beside the records: which fields they
    carry, and (for the feeds) the title and the site page they mirror."""

    fields: tuple[str, ...]
    title: str
    link: str
    #: CSV: write each text as stored (``--csv-raw``), not neutralized.
    raw_cells: bool = False


Writer = Callable[[Iterable[Record], IO[bytes], About], None]


def format_of(name: str | None, output: str) -> str:
    """The format: ``name`` if given (in any case, as extensions are), else
    the output's extension's, else jsonl.

    >>> format_of(None, "daily.ATOM"), format_of("CSV", "-"), format_of(None, "/dev/null")
    ('atom', 'csv', 'jsonl')
    >>> format_of(None, "papers.xlsx")
    Traceback (most recent call last):
    ValueError: no format for the extension '.xlsx' (give --format, or use .jsonl, .ndjson, .csv, .parquet, .atom, .rss)
    >>> format_of(None, "feed.json")
    Traceback (most recent call last):
    ValueError: '.json' names no one format: give --format jsonfeed for a JSON Feed, or use .jsonl for one record a line (scrapy crawl -O x.json writes a JSON array)
    """
    if name is not None:
        if name.strip().lower() not in FORMATS:
            raise ValueError(f"{name!r} is not a format (one of {', '.join(FORMATS)})")
        return name.strip().lower()
    suffix = "" if output == "-" else PurePath(output).suffix.lower()
    if not suffix:
        return "jsonl"
    if suffix == ".json":  # a JSON Feed (feed.json), or what scrapy crawl -O x.json writes?
        raise ValueError(
            "'.json' names no one format: give --format jsonfeed for a JSON Feed,"
            " or use .jsonl for one record a line (scrapy crawl -O x.json writes a JSON array)"
        )
    if suffix not in EXTENSIONS:
        raise ValueError(
            f"no format for the extension {suffix!r}"
            f" (give --format, or use {', '.join(EXTENSIONS)})"
        )
    return EXTENSIONS[suffix]


def about(chosen: PaperFilter, base_url: str, with_history: bool, raw_cells: bool = False) -> About:
    """The fields exported, and the feed's title (saying what was filtered)
    and link (the site's page of the same papers, where it has one)."""
    fields = tuple(
        name for name in FeedRecord.model_fields if with_history or name not in HISTORY_FIELDS
    )
    parts = []
    link = f"{base_url.rstrip('/')}/papers"
    if chosen.week:
        parts.append(f"week {Period('week', chosen.week).key}")
        link += f"/week/{Period('week', chosen.week).key}"
    if chosen.month:
        parts.append(f"month {chosen.month:%Y-%m}")
        link += f"/month/{chosen.month:%Y-%m}"
    dated = "listed" if chosen.by == "listing" else "published"
    if chosen.since and chosen.until:
        parts.append(f"{dated} {chosen.since} to {chosen.until}")
    elif chosen.since:
        parts.append(f"{dated} since {chosen.since}")
    elif chosen.until:
        parts.append(f"{dated} until {chosen.until}")
    if chosen.min_upvotes is not None:
        parts.append(f"at least {counted(chosen.min_upvotes, 'upvote')}")
    for name, one in (("models", "model"), ("datasets", "dataset"), ("spaces", "Space")):
        least = getattr(chosen, f"min_{name}")
        if least is not None:
            parts.append(f"cited by at least {counted(least, one)}")
    if chosen.organization:
        parts.append(f"organization {chosen.organization}")
    if chosen.changed_since:
        parts.append(f"changed since {json_value(chosen.changed_since)}")
    if chosen.settled:
        parts.append("settled days")
    title = "Hugging Face Daily Papers" + (f": {', '.join(parts)}" if parts else "")
    return About(fields, title, link, raw_cells)


def check(name: str) -> None:
    """``FormatError`` if the package format ``name`` needs is not installed:
    said before any output is opened."""
    if name == "parquet":
        _pyarrow()


def writer(name: str) -> Writer:
    """The writer of format ``name``."""
    return {
        "jsonl": write_jsonl,
        "csv": write_csv,
        "parquet": write_parquet,
        "atom": write_atom,
        "rss": write_rss,
        "jsonfeed": write_jsonfeed,
    }[name]


# -- tables ---------------------------------------------------------------------


def write_jsonl(records: Iterable[Record], stream: IO[bytes], about: About) -> None:
    """One JSON object per line, UTF-8."""
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
    try:
        for record in records:
            text.write(dumps(record))
            text.write("\n")
    finally:
        text.detach()  # the stream is the caller's to close


def write_csv(records: Iterable[Record], stream: IO[bytes], about: About) -> None:
    """RFC 4180 CSV (CRLF rows, as the csv module writes), UTF-8, a header row."""
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    try:
        rows = csv.writer(text)
        rows.writerow(about.fields)
        for record in records:
            rows.writerow([csv_cell(record[name], about.raw_cells) for name in about.fields])
    finally:
        text.detach()  # the stream is the caller's to close


def csv_cell(value: Any, raw: bool = False) -> str:
    r"""A CSV cell: null empty (no text field is ever empty), lists JSON,
    dates and moments as in the JSONL; a text a spreadsheet would take for
    a formula (``FORMULA_STARTS``) with a ``'`` before it, unless ``raw``.
    A number is a number (``-3`` stays ``-3``).

    >>> [csv_cell(v) for v in (None, True, 3, ["A", "B"], dt.date(2026, 7, 31))]
    ['', 'true', '3', '["A", "B"]', '2026-07-31']
    >>> csv_cell("=HYPERLINK(\"http://x\")"), csv_cell("-1+1", raw=True), csv_cell(-3)
    ('\'=HYPERLINK("http://x")', '-1+1', '-3')
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value if raw or not value.startswith(FORMULA_STARTS) else "'" + value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=json_value)
    if isinstance(value, dt.date):
        return str(json_value(value))
    return str(value)


def write_parquet(records: Iterable[Record], stream: IO[bytes], about: About) -> None:
    """Parquet with the record's types, a row group per ``PARQUET_CHUNK`` records."""
    pa, pq = _pyarrow()
    schema = arrow_schema(about.fields)
    with pq.ParquetWriter(stream, schema) as parquet:
        iterator = iter(records)
        while chunk := list(islice(iterator, PARQUET_CHUNK)):
            columns = {name: [record[name] for record in chunk] for name in about.fields}
            parquet.write_table(pa.Table.from_pydict(columns, schema=schema))


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise FormatError(
            "the parquet format needs pyarrow: pip install 'digest_crawler[parquet]'"
        ) from None
    return pa, pq


def arrow_schema(fields: Iterable[str]) -> Any:
    """The Arrow schema of these record fields, from the model's types."""
    return _arrow_struct(FeedRecord, fields)


def _arrow_struct(model: type[BaseModel], fields: Iterable[str] | None = None) -> Any:
    pa, _ = _pyarrow()
    chosen = set(fields) if fields is not None else set(model.model_fields)
    return pa.schema(
        [
            pa.field(name, _arrow_type(kind), nullable=kind.optional)
            for name, kind in field_kinds(model).items()
            if name in chosen
        ]
    )


def _arrow_type(kind: Kind) -> Any:
    """date -> date32, datetime -> UTC timestamp, list -> list, model -> struct."""
    pa, _ = _pyarrow()
    if kind.type is list:
        assert kind.item is not None
        return pa.list_(_arrow_type(kind.item))
    if isinstance(kind.type, type) and issubclass(kind.type, BaseModel):
        return pa.struct(list(_arrow_struct(kind.type)))
    simple = {
        bool: pa.bool_(),
        int: pa.int64(),
        str: pa.string(),
        dt.date: pa.date32(),
        dt.datetime: pa.timestamp("us", tz="UTC"),
    }
    return simple[kind.type]


# -- feeds ------------------------------------------------------------------------


def entry_html(record: Record) -> str:
    """An entry's text: the abstract, the AI summary where kept, authors,
    organization, upvotes (and the list's rank), as HTML.

    >>> print(entry_html(dict(abstract="A <b>", upvotes=3, authors=["X"], ai_summary=None,
    ...     organization=None, listing_date=dt.date(2026, 7, 31), rank=None)))
    <p>A &lt;b&gt;</p>
    <p>Authors: X</p>
    <p>3 upvotes · listed 2026-07-31</p>
    """
    paragraphs = []
    if record["abstract"]:
        paragraphs.append(html.escape(record["abstract"]))
    if record["ai_summary"]:
        paragraphs.append("AI summary: " + html.escape(record["ai_summary"]))
    authors = [name for name in map(xml_text, record["authors"] or ()) if name.strip()]
    if authors:
        paragraphs.append("Authors: " + html.escape(", ".join(authors)))
    if record["organization"]:
        paragraphs.append("Organization: " + html.escape(record["organization"]))
    upvotes, rank = record["upvotes"], record["rank"]
    counts = f"{counted(upvotes, 'upvote')} · listed {record['listing_date']}"
    if rank is not None:
        counts += f" · rank {rank}"
    paragraphs.append(counts)
    return "\n".join(f"<p>{xml_text(p)}</p>" for p in paragraphs)


def xml_text(text: str) -> str:
    r"""``text`` without the characters XML 1.0 cannot carry (C0 controls but
    tab, newline and carriage return; surrogates; U+FFFE, U+FFFF): what every
    XML output writes of a text.

    >>> xml_text("a\x01b\x0b\tc\ufffe")
    'ab\tc'
    """
    return _NOT_XML.sub("", text)


def _entry_title(record: Record) -> str:
    r"""The entry's title: the paper's, in XML's characters; one that has
    none of them (only control characters) is its arXiv id, as a feed
    entry needs a title.

    >>> _entry_title({"title": "\x01\x02", "arxiv_id": "2607.28618"})
    'arXiv 2607.28618'
    """
    title = xml_text(record["title"])
    return title if title.strip() else f"arXiv {xml_text(record['arxiv_id'])}"


def _published(record: Record) -> dt.datetime:
    """When the paper entered the digest (its listing day's midnight UTC
    where the page does not say)."""
    submitted: dt.datetime | None = record["submitted_at"]
    if submitted is not None:
        return submitted
    day: dt.date = record["listing_date"]
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@dataclass(slots=True)
class _Entry:
    """What an Atom entry and an RSS item say of a paper, in XML's characters."""

    url: str
    title: str
    published: dt.datetime
    updated: dt.datetime
    authors: list[str]
    keywords: list[str]
    html: str


def _entry(record: Record, about: About) -> _Entry:
    # The page's URL: an entry's id and link (text a crawl cannot hold
    # aside, as a hand-edited archive may: the arXiv id's page instead).
    url = xml_text(record["url"]).strip() or f"{about.link}/{xml_text(record['arxiv_id'])}"
    return _Entry(
        url=url,
        title=_entry_title(record),
        published=_published(record),
        updated=record["scraped_at"],
        # A name or keyword of control characters only is none.
        authors=[name for name in map(xml_text, record["authors"] or ()) if name.strip()],
        keywords=[k for k in map(xml_text, record["ai_keywords"] or ()) if k.strip()],
        html=entry_html(record),
    )


def write_atom(records: Iterable[Record], stream: IO[bytes], about: About) -> None:
    """Atom 1.0 (RFC 4287), written entry by entry."""
    from lxml import etree

    feed = etree.Element("feed", xmlns=ATOM)
    feed.set("{http://www.w3.org/XML/1998/namespace}lang", "en")

    def add_entry(paper: _Entry) -> Any:
        entry = etree.SubElement(feed, "entry")
        etree.SubElement(entry, "id").text = paper.url
        etree.SubElement(entry, "title").text = paper.title
        etree.SubElement(entry, "updated").text = paper.updated.isoformat()
        for name in paper.authors:
            etree.SubElement(etree.SubElement(entry, "author"), "name").text = name
        etree.SubElement(entry, "content", type="html").text = paper.html
        etree.SubElement(entry, "link", href=paper.url)  # no rel: Atom's "alternate"
        for keyword in paper.keywords:
            etree.SubElement(entry, "category", term=keyword)
        etree.SubElement(entry, "published").text = paper.published.isoformat()
        return entry

    def add_head(newest: dt.datetime) -> None:
        etree.SubElement(feed, "id").text = xml_text(about.link)
        etree.SubElement(feed, "title").text = xml_text(about.title)
        etree.SubElement(feed, "updated").text = newest.isoformat()
        etree.SubElement(etree.SubElement(feed, "author"), "name").text = FEED_AUTHOR
        etree.SubElement(feed, "link", href=xml_text(about.link), rel="alternate")
        etree.SubElement(feed, "generator").text = GENERATOR
        etree.SubElement(feed, "subtitle").text = xml_text(about.title)

    _write_feed(stream, feed, feed, records, about, add_entry, add_head)


def write_rss(records: Iterable[Record], stream: IO[bytes], about: About) -> None:
    """RSS 2.0, written item by item."""
    from lxml import etree

    rss = etree.Element("rss", version="2.0", nsmap={"atom": ATOM, "content": RSS_CONTENT})
    channel = etree.SubElement(rss, "channel")

    def add_item(paper: _Entry) -> Any:
        item = etree.SubElement(channel, "item")
        etree.SubElement(item, "title").text = paper.title
        etree.SubElement(item, "link").text = paper.url
        etree.SubElement(item, "description").text = paper.html
        etree.SubElement(item, f"{{{RSS_CONTENT}}}encoded").text = paper.html
        etree.SubElement(item, "guid", isPermaLink="true").text = paper.url
        for keyword in paper.keywords:
            etree.SubElement(item, "category").text = keyword
        etree.SubElement(item, "pubDate").text = format_datetime(paper.published)
        return item

    def add_head(newest: dt.datetime) -> None:
        etree.SubElement(channel, "title").text = xml_text(about.title)
        etree.SubElement(channel, "link").text = xml_text(about.link)
        etree.SubElement(channel, "description").text = xml_text(about.title)
        etree.SubElement(channel, "docs").text = "http://www.rssboard.org/rss-specification"
        etree.SubElement(channel, "generator").text = GENERATOR
        etree.SubElement(channel, "language").text = "en"
        etree.SubElement(channel, "lastBuildDate").text = format_datetime(newest)

    _write_feed(stream, rss, channel, records, about, add_item, add_head)


def _write_feed(
    stream: IO[bytes],
    root: Any,
    parent: Any,
    records: Iterable[Record],
    about: About,
    add_entry: Callable[[_Entry], Any],
    add_head: Callable[[dt.datetime], None],
) -> None:
    """Write the feed ``root`` (an lxml element) as lxml writes a whole tree
    (pretty-printed, UTF-8), holding one entry at a time (a whole tree holds
    about 26 KB a paper): each record's entry (``add_entry``: an element in
    ``parent``) written alone as it is among its parents, then the head
    (``add_head``, given the newest ``scraped_at``) before them all. The
    head says the newest moment, so the entries pass through a temporary
    file first (in memory up to ``SPOOL_IN_MEMORY`` bytes)."""
    from lxml import etree

    start, end = _around(root, parent)
    newest = EPOCH
    with tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY) as spool:
        try:
            for record in records:
                entry = add_entry(_entry(record, about))
                whole = etree.tostring(root, encoding="UTF-8", pretty_print=True)
                parent.remove(entry)
                spool.write(whole[len(start) : len(whole) - len(end)])
                newest = max(newest, record["scraped_at"])
        except OSError as exc:  # not the output's disk: say which
            where = f"a temporary file in {tempfile.gettempdir()} (TMPDIR)"
            raise OSError(exc.errno, f"{exc.strerror or exc}: {where}") from None
        add_head(newest)
        head, tail = _around(root, parent, document=True)
        stream.write(head)
        spool.seek(0)
        shutil.copyfileobj(spool, stream)
        stream.write(tail)


def _around(root: Any, parent: Any, document: bool = False) -> tuple[bytes, bytes]:
    """What lxml writes of ``root`` (``document``: with the XML declaration)
    before and after the line of a last child of ``parent``."""
    from lxml import etree

    marker = etree.SubElement(parent, "marker")
    whole = etree.tostring(
        root.getroottree() if document else root,
        encoding="UTF-8",
        xml_declaration=document,
        pretty_print=True,
    )
    parent.remove(marker)
    before, after = whole.split(b"<marker/>")
    return before.rstrip(b" "), after.removeprefix(b"\n")


def write_jsonfeed(records: Iterable[Record], stream: IO[bytes], about: About) -> None:
    """JSON Feed 1.1, streamed: the feed's members, then an item per line."""
    head = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": about.title,
        "home_page_url": about.link,
        "description": about.title,
        "language": "en",
    }
    stream.write(one_line(json.dumps(head, ensure_ascii=False))[:-1].encode("utf-8"))
    stream.write(b', "items": [')
    for number, item in enumerate(_json_items(records)):
        stream.write(b"\n" if number == 0 else b",\n")
        stream.write(one_line(json.dumps(item, ensure_ascii=False)).encode("utf-8"))
    stream.write(b"\n]}\n")


def _json_items(records: Iterable[Record]) -> Iterator[dict[str, Any]]:
    for record in records:
        item: dict[str, Any] = {
            "id": record["url"],
            "url": record["url"],
            # Any text is JSON's; a title of control characters only is none.
            "title": record["title"] if xml_text(record["title"]).strip() else _entry_title(record),
            "content_html": entry_html(record),
            "date_published": json_value(_published(record)),
            "date_modified": json_value(record["scraped_at"]),
        }
        if record["ai_summary"]:
            item["summary"] = record["ai_summary"]
        if record["thumbnail"]:
            item["image"] = record["thumbnail"]
        if record["authors"]:
            item["authors"] = [{"name": name} for name in record["authors"]]
        if record["ai_keywords"]:
            item["tags"] = record["ai_keywords"]
        # JSON Feed's extension member: the record's own fields a reader may use.
        item["_digest_crawler"] = {
            "arxiv_id": record["arxiv_id"],
            "upvotes": record["upvotes"],
            "organization": record["organization"],
            "listing_date": str(record["listing_date"]),
            "rank": record["rank"],
        }
        yield item
