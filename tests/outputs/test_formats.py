"""Every export format, written from an archive on SQLite and PostgreSQL and
read back with the tool its users use: the same values as the JSONL, the
specifications' required elements, empty filters, byte-identical repeats."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest_crawler.commands.export import ExportOptions
from digest_crawler.outputs import formats
from digest_crawler.outputs.export import export
from digest_crawler.outputs.records import HISTORY_FIELDS, FeedRecord
from tests.support.readback import (
    comparable,
    read_atom,
    read_csv,
    read_entries,
    read_jsonfeed,
    read_parquet,
    read_rss,
)

BASE = "https://huggingface.co"
SUFFIX = {
    "jsonl": "jsonl",
    "csv": "csv",
    "parquet": "parquet",
    "atom": "atom",
    "rss": "rss",
    "jsonfeed": "json",
}


def run(url: str, path: Path, **options: Any) -> int:
    if path.suffix == ".json":  # names no one format: a JSON Feed is asked for
        options.setdefault("format", "jsonfeed")
    chosen = ExportOptions.model_validate({"output": str(path), **options})
    return export(
        url, chosen, chosen.output, chosen.kind, BASE, chosen.with_history, chosen.csv_raw
    ).records


def jsonl(url: str, tmp_path: Path, **options: Any) -> list[dict[str, Any]]:
    path = tmp_path / "reference.jsonl"
    run(url, path, **options)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("with_history", [False, True], ids=["plain", "with-history"])
def test_parquet_and_csv_read_back_to_the_jsonl_values(
    archive_url: str, tmp_path: Path, with_history: bool
) -> None:
    extra = {"with_history": True} if with_history else {}
    reference = comparable(jsonl(archive_url, tmp_path, **extra))
    assert len(reference) == 1000
    for kind, read in (("parquet", read_parquet), ("csv", None)):
        path = tmp_path / f"papers.{kind}"
        assert run(archive_url, path, **extra) == 1000
        rows = read_parquet(path) if read else comparable(read_csv(path.read_bytes()))
        assert rows == reference, kind


def test_parquet_has_real_types_in_pandas(archive_url: str, tmp_path: Path) -> None:
    run(archive_url, tmp_path / "papers.parquet")
    papers = pd.read_parquet(tmp_path / "papers.parquet")
    records = jsonl(archive_url, tmp_path)
    assert list(papers["arxiv_id"]) == [r["arxiv_id"] for r in records]
    assert any(r["arxiv_id"].endswith("0") for r in records)  # the ids a guess would break
    assert str(papers["scraped_at"].dtype) == "datetime64[us, UTC]"
    assert papers["listing_date"].iloc[0] == dt.date(2026, 7, 29)
    assert papers["upvotes"].dtype == "int64" and papers["settled"].dtype == bool
    assert list(papers["authors"].iloc[1]) == records[1]["authors"]


def test_csv_in_pandas_as_readme_says(archive_url: str, tmp_path: Path) -> None:
    """CSV has no types: pandas guesses, and reads 2607.00010 as a number
    unless told (README gives the dtype); lists are JSON text."""
    run(archive_url, tmp_path / "papers.csv")
    records = jsonl(archive_url, tmp_path)
    guessed = pd.read_csv(tmp_path / "papers.csv")
    assert guessed["arxiv_id"].dtype == float  # what README warns of
    papers = pd.read_csv(
        tmp_path / "papers.csv",
        dtype={"arxiv_id": str},
        parse_dates=["submitted_at", "scraped_at"],
        converters={"authors": lambda text: json.loads(text) if text else None},
    )
    assert list(papers["arxiv_id"]) == [r["arxiv_id"] for r in records]
    assert list(papers["authors"]) == [r["authors"] for r in records]
    assert str(papers["scraped_at"].dtype).startswith("datetime64") and "UTC" in str(
        papers["scraped_at"].dtype
    )
    assert papers["upvotes"].tolist() == [r["upvotes"] for r in records]


def test_feeds_have_an_entry_per_paper_newest_listing_first(
    archive_url: str, tmp_path: Path
) -> None:
    records = jsonl(archive_url, tmp_path, since=dt.date(2026, 8, 10))
    newest = sorted(records, key=lambda r: (r["listing_date"], r["arxiv_id"]), reverse=True)
    for kind, read in (("atom", read_atom), ("rss", read_rss)):
        path = tmp_path / f"daily.{kind}"
        run(archive_url, path, since="2026-08-10")
        entries = read(path.read_bytes())
        assert [e["id"] for e in entries] == [r["url"] for r in newest], kind
        first, paper = entries[0], newest[0]
        assert first["title"] == paper["title"] and first["link"] == paper["url"]
        text = first["content"][0]["value"] if kind == "atom" else first["summary"]
        assert paper["abstract"].split(":")[0] in text and f"{paper['upvotes']} upvotes" in text
        if paper["authors"]:
            assert ", ".join(paper["authors"]) in text
        if paper["ai_summary"]:
            assert paper["ai_summary"] in text
    feed = read_jsonfeed(_write(archive_url, tmp_path, "jsonfeed", since="2026-08-10"))
    assert [item["id"] for item in feed["items"]] == [r["url"] for r in newest]
    assert feed["title"] == "Hugging Face Daily Papers: listed since 2026-08-10"
    item = feed["items"][0]
    assert item["_digest_crawler"]["arxiv_id"] == newest[0]["arxiv_id"]


def test_a_feeds_updated_is_the_newest_scrape_not_now(archive_url: str, tmp_path: Path) -> None:
    records = jsonl(archive_url, tmp_path, until="2026-07-29")
    newest = max(dt.datetime.fromisoformat(r["scraped_at"]) for r in records)
    atom = read_atom_feed(_write(archive_url, tmp_path, "atom", until="2026-07-29"))
    assert dt.datetime.fromisoformat(atom["updated"]) == newest


def read_atom_feed(data: bytes) -> dict[str, Any]:
    import feedparser

    return dict(feedparser.parse(data).feed)


def test_a_weeks_feed_is_in_rank_order_and_says_what_it_holds(
    archive_url: str, tmp_path: Path
) -> None:
    records = jsonl(archive_url, tmp_path, week="2026-W31", min_upvotes=110)
    assert [r["rank"] for r in records] == sorted(r["rank"] for r in records) and records
    entries = read_rss(_write(archive_url, tmp_path, "rss", week="2026-W31", min_upvotes=110))
    assert [e["id"] for e in entries] == [r["url"] for r in records]
    assert f"rank {records[0]['rank']}" in entries[0]["summary"]
    import feedparser

    feed = feedparser.parse(
        _write(archive_url, tmp_path, "atom", week="2026-W31", min_upvotes=110)
    ).feed
    assert feed["title"] == "Hugging Face Daily Papers: week 2026-W31, at least 110 upvotes"
    assert feed["link"] == "https://huggingface.co/papers/week/2026-W31"


@pytest.mark.parametrize("kind", formats.FORMATS)
def test_an_empty_filter_gives_a_valid_empty_file(
    archive_url: str, tmp_path: Path, kind: str
) -> None:
    data = _write(archive_url, tmp_path, kind, min_upvotes=10**6)
    assert read_entries(kind, tmp_path / f"papers.{SUFFIX[kind]}") == []
    if kind == "parquet":
        import pyarrow.parquet as pq

        assert pq.read_schema(tmp_path / "papers.parquet").names == list(
            name for name in FeedRecord.model_fields if name not in HISTORY_FIELDS
        )
    elif kind == "csv":
        assert data.decode().splitlines() == [
            ",".join(formats.about(ExportOptions(), BASE, False).fields)
        ]
    elif kind == "jsonl":
        assert data == b""


@pytest.mark.parametrize("kind", formats.FORMATS)
def test_two_exports_are_identical(archive_url: str, tmp_path: Path, kind: str) -> None:
    one = _write(archive_url, tmp_path / "one", kind, until="2026-08-05")
    two = _write(archive_url, tmp_path / "two", kind, until="2026-08-05")
    if kind == "parquet":
        rows = read_parquet(tmp_path / "one" / "papers.parquet")
        assert rows == read_parquet(tmp_path / "two" / "papers.parquet") and rows
    else:
        assert one == two and one


def _write(url: str, directory: Path, kind: str, **options: Any) -> bytes:
    directory.mkdir(exist_ok=True)
    path = directory / f"papers.{SUFFIX[kind]}"
    run(url, path, **options)
    return path.read_bytes()


def test_control_characters_are_dropped_from_the_feeds_xml() -> None:
    record = dict(
        abstract="a\x0bb",
        upvotes=1,
        authors=None,
        ai_summary=None,
        organization=None,
        listing_date=dt.date(2026, 1, 1),
        rank=None,
    )
    assert formats.entry_html(record) == "<p>ab</p>\n<p>1 upvote · listed 2026-01-01</p>"


@pytest.mark.parametrize("with_history", [False, True], ids=["plain", "with-history"])
def test_records_serialize_as_the_model_does(archive_url: str, with_history: bool) -> None:
    """The export's JSON values, derived from the model's types, are the
    model's own (pydantic's ``model_dump(mode="json")``), and every record
    validates against ``FeedRecord``."""
    import sqlalchemy as sa

    from digest_crawler.outputs.records import dumps, records

    options = ExportOptions(with_history=with_history)
    engine = sa.create_engine(archive_url)
    checked = 0
    with engine.connect() as connection:
        for record in records(connection, options, with_history):
            model = FeedRecord.model_validate(record)
            dumped = model.model_dump(mode="json", exclude_unset=not with_history)
            assert json.loads(dumps(record)) == dumped
            checked += 1
    engine.dispose()
    assert checked == 1000


@pytest.mark.parametrize("with_history", [False, True], ids=["plain", "with-history"])
def test_the_json_form_of_the_drivers_values_is_the_typed_records(
    archive_url: str, with_history: bool
) -> None:
    """JSONL and CSV read the driver's own values (SQLite: stored text) and
    write the same lines as from values of the model's types."""
    import sqlalchemy as sa

    from digest_crawler.outputs.records import dumps, records

    options = ExportOptions(with_history=with_history)
    engine = sa.create_engine(archive_url)
    with engine.connect() as connection:
        typed = [dumps(record) for record in records(connection, options, with_history)]
        native = [
            dumps(record) for record in records(connection, options, with_history, json_form=True)
        ]
    engine.dispose()
    assert native == typed and len(typed) == 1000


HOSTILE = [
    "'); DROP TABLE papers;--",
    "<script>alert('x')</script> & <b>bold</b> &amp; &lt; ]]>",
    "\u200fRTL mark \u202eoverride\u202c and \u05e2\u05d1\u05e8\u05d9\u05ea",
    "emoji 🤗👍🏽🧑‍🔬 and combining e\u0301 a\u0308, 中文",
    "control \x01\x0b\x1f characters XML 1.0 has no place for",
    "T" * 100_000,
]


def test_hostile_text_survives_every_format(archive_url: str, tmp_path: Path) -> None:
    """Markup, quotes, RTL, emoji and a 100 KB title come back exactly; the
    XML feeds drop only the control characters XML 1.0 cannot carry."""
    import re

    import sqlalchemy as sa

    from digest_crawler.storage.schema import papers
    from tests.support.archive import paper_row

    day = dt.date(2026, 9, 1)
    rows = [
        paper_row(
            number,
            day,
            title=f"Title {text}",
            abstract=f"Abstract {text}",
            authors=[f"Author {text}"],
            organization=f"Lab {text}",
            ai_keywords=[f"keyword {text}"],
        )
        for number, text in enumerate(HOSTILE, start=1)
    ]
    engine = sa.create_engine(archive_url)
    with engine.begin() as connection:
        connection.execute(sa.insert(papers), rows)
    engine.dispose()
    records = jsonl(archive_url, tmp_path, since=day)
    assert sorted(r["title"] for r in records) == sorted(r["title"] for r in rows)
    for kind in ("csv", "parquet"):
        _write(archive_url, tmp_path, kind, since=day)
    reference = comparable(records)
    assert read_parquet(tmp_path / "papers.parquet") == reference
    assert comparable(read_csv((tmp_path / "papers.csv").read_bytes())) == reference
    xml = {r["url"]: re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "", r["title"]) for r in records}
    atom = read_atom(_write(archive_url, tmp_path, "atom", since=day))
    assert {e["id"]: e["title"] for e in atom} == xml
    assert len(read_rss(_write(archive_url, tmp_path, "rss", since=day))) == len(rows)
    feed = read_jsonfeed(_write(archive_url, tmp_path, "jsonfeed", since=day))
    assert {i["id"]: i["title"] for i in feed["items"]} == {r["url"]: r["title"] for r in records}


#: Characters XML 1.0 cannot carry (and an escape sequence, a DEL and a C1
#: control, which it can), in a text of every kind a record holds.
NOT_XML = "\x01\x02\x08\x0b\x0c\x1b[31m\x1f\x7f\x85\ufffe\uffff"


def test_every_text_with_characters_xml_cannot_carry_gives_well_formed_feeds(
    archive_url: str, tmp_path: Path
) -> None:
    """A title of control characters only, and control characters in every
    other text and link: the Atom and RSS feeds parse (ElementTree, lxml,
    feedparser) with those characters dropped, the title replaced by the
    arXiv id; every other format keeps the exact values."""
    import re
    import xml.etree.ElementTree as ElementTree

    import sqlalchemy as sa
    from lxml import etree

    from digest_crawler.storage.schema import papers
    from tests.support.archive import paper_row

    day = dt.date(2026, 9, 2)
    texts: dict[str, Any] = {
        "abstract": f"Abstract {NOT_XML}",
        "ai_summary": f"Summary {NOT_XML}",
        "ai_keywords": [NOT_XML[:3], f"keyword {NOT_XML}"],
        "authors": [NOT_XML[:3], f"Author {NOT_XML}"],
        "organization": f"Lab {NOT_XML}",
        "organization_id": f"lab{NOT_XML}",
        "submitted_by": f"user{NOT_XML}",
        "github_repo": f"https://github.com/a/b{NOT_XML}",
        "project_page": f"https://example.org/{NOT_XML}",
        "thumbnail": f"https://cdn.example/{NOT_XML}.png",
    }
    only_controls = paper_row(1, day, title="\x01", **texts)
    mixed = paper_row(2, day, title=f"Title {NOT_XML}", **texts)
    engine = sa.create_engine(archive_url)
    with engine.begin() as connection:
        connection.execute(sa.insert(papers), [only_controls, mixed])
    engine.dispose()
    records = jsonl(archive_url, tmp_path, since=day)
    assert {r["title"] for r in records} == {"\x01", f"Title {NOT_XML}"}
    assert all(r[name] == texts[name] for r in records for name in texts)

    def dropped(text: str) -> str:
        return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)

    atom = _write(archive_url, tmp_path, "atom", since=day)
    for root in (ElementTree.fromstring(atom), etree.fromstring(atom)):
        entries = root.findall("{http://www.w3.org/2005/Atom}entry")
        titles = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in entries]
        assert titles == [dropped(mixed["title"]), f"arXiv {only_controls['arxiv_id']}"]
    entry = etree.fromstring(atom).find("{http://www.w3.org/2005/Atom}entry")
    assert entry is not None
    names = entry.findall("{http://www.w3.org/2005/Atom}author/{http://www.w3.org/2005/Atom}name")
    assert [n.text for n in names] == [dropped(f"Author {NOT_XML}")]  # "\x01\x02\x08": none
    terms = entry.findall("{http://www.w3.org/2005/Atom}category")
    assert [t.get("term") for t in terms] == [dropped(f"keyword {NOT_XML}")]
    read_atom(atom)  # and feedparser reads it without complaint
    content = entry.findtext("{http://www.w3.org/2005/Atom}content") or ""
    for name in ("abstract", "ai_summary", "organization"):
        assert dropped(texts[name]) in content, name
    assert f"<p>Authors: {dropped(texts['authors'][1])}</p>" in content
    rss = _write(archive_url, tmp_path, "rss", since=day)
    items = ElementTree.fromstring(rss).findall("channel/item")
    assert [i.findtext("title") for i in items] == titles
    assert len(read_rss(rss)) == 2
    feed = read_jsonfeed(_write(archive_url, tmp_path, "jsonfeed", since=day))
    assert [i["title"] for i in feed["items"]] == [mixed["title"], titles[1]]
    reference = comparable(records)
    _write(archive_url, tmp_path, "parquet", since=day)
    assert read_parquet(tmp_path / "papers.parquet") == reference
    csv_rows = read_csv(_write(archive_url, tmp_path, "csv", since=day))
    assert comparable(csv_rows) == reference


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_a_paper_of_many_keywords_and_authors_is_a_feed_entry_in_linear_time(kind: str) -> None:
    """A hostile mirror's paper of 20,000 keywords (an API answer holds up
    to 200,000 values) is written in linear time (feedgen, which wrote the
    feeds before, rebuilt an entry's RSS categories at each one added: 25 s
    here one by one, minutes for more, for every export of the feed)."""
    import io
    import time

    from lxml import etree

    record: dict[str, Any] = {name: None for name in FeedRecord.model_fields}
    moment = dt.datetime(2026, 9, 2, tzinfo=dt.UTC)
    record.update(
        arxiv_id="2609.00001",
        url=f"{BASE}/papers/2609.00001",
        title="Many keywords",
        listing_date=moment.date(),
        scraped_at=moment,
        upvotes=1,
        ai_keywords=[f"keyword {n}" for n in range(20_000)],
        authors=[f"Author {n}" for n in range(20_000)],
    )
    about = formats.About(fields=tuple(record), title="Feed", link=BASE)
    stream = io.BytesIO()
    started = time.monotonic()
    getattr(formats, f"write_{kind}")([record], stream, about)
    assert time.monotonic() - started < 5
    categories = etree.fromstring(stream.getvalue()).iter(
        "{http://www.w3.org/2005/Atom}category" if kind == "atom" else "category"
    )
    terms = [c.get("term") if kind == "atom" else c.text for c in categories]
    assert terms == record["ai_keywords"]


FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "\uff1d1+1"]


@pytest.mark.parametrize("raw", [False, True], ids=["neutralized", "csv-raw"])
def test_csv_cells_a_spreadsheet_would_run_are_neutralized_unless_asked(
    archive_url: str, tmp_path: Path, raw: bool
) -> None:
    """A text starting as a formula gets a ``'`` before it (OWASP's CSV
    injection advice), in every text field; lists (JSON text), numbers and
    dates are untouched; ``--csv-raw`` writes the texts as stored."""
    import csv
    import io

    import sqlalchemy as sa

    from digest_crawler.storage.schema import papers
    from tests.support.archive import paper_row

    day = dt.date(2026, 9, 3)
    rows = [
        paper_row(
            number,
            day,
            title=text,
            abstract=text,
            organization=text,
            submitted_by=text,
            ai_keywords=[text],
            authors=[text],
        )
        for number, text in enumerate(FORMULAS, start=1)
    ]
    engine = sa.create_engine(archive_url)
    with engine.begin() as connection:
        connection.execute(sa.insert(papers), rows)
    engine.dispose()
    extra = {"csv_raw": True} if raw else {}
    data = _write(archive_url, tmp_path, "csv", since=day, **extra)
    written = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert len(written) == len(FORMULAS)
    for row, text in zip(written, FORMULAS, strict=True):
        expected = text if raw else "'" + text
        for name in ("title", "abstract", "organization", "submitted_by"):
            assert row[name] == expected, (name, row[name])
        assert json.loads(row["authors"]) == json.loads(row["ai_keywords"]) == [text]
        assert row["upvotes"].isdigit() and row["listing_date"] == str(day)
    assert formats.csv_cell(-3) == "-3"  # a number is a number


def test_csv_raw_is_for_the_csv_format_only() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="--csv-raw: only the csv format has cells"):
        ExportOptions.model_validate({"output": "papers.jsonl", "csv_raw": True})
    assert ExportOptions.model_validate({"output": "papers.csv", "csv_raw": True}).csv_raw


# -- Atom and RSS: feedgen's bytes, written one entry at a time ---------------------


def feedgen_export(url: str, kind: str, **options: Any) -> bytes:
    """The feed feedgen wrote of the papers ``options`` choose (the reference)."""
    from digest_crawler.outputs.records import records
    from digest_crawler.storage.queries import reading
    from tests.support.feedgen_feeds import feedgen_feed

    chosen = ExportOptions.model_validate({"output": f"papers.{kind}", **options})
    with reading(url) as connection:
        papers = records(connection, chosen, newest_first=True)
        return feedgen_feed(kind, papers, formats.about(chosen, BASE, False))


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_atom_and_rss_are_the_bytes_feedgen_wrote(
    archive_url: str, tmp_path: Path, kind: str
) -> None:
    """The whole archive, a week's list and an empty filter: the same bytes
    as the feed feedgen built whole (its generator element aside)."""
    for options in ({}, {"week": "2026-W31", "min_upvotes": 110}, {"min_upvotes": 10**6}):
        written = _write(archive_url, tmp_path, kind, **options)
        assert written == feedgen_export(archive_url, kind, **options), options
    assert written.count(b"<generator>digest_crawler</generator>") == 1


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_the_feeds_of_real_pages_are_the_bytes_feedgen_wrote(tmp_path: Path, kind: str) -> None:
    """An archive of the real pages' papers (the schema-1 archive of
    fixtures/, upgraded): real titles, abstracts, authors and hostile text."""
    import shutil

    from digest_crawler.storage import make_engine, migrate
    from tests.conftest import FIXTURES

    shutil.copy(FIXTURES / "archive-v1.sqlite", tmp_path / "papers.sqlite")
    url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    for options in ({}, {"by": "published"}):
        written = _write(url, tmp_path, kind, **options)
        assert written == feedgen_export(url, kind, **options), options
        assert written.count(b"</entry>" if kind == "atom" else b"</item>") == 98


def edge_record(number: int, **values: Any) -> dict[str, Any]:
    record: dict[str, Any] = {name: None for name in FeedRecord.model_fields}
    moment = dt.datetime(2026, 9, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    record.update(
        arxiv_id=f"2609.{number:05d}",
        url=f"{BASE}/papers/2609.{number:05d}",
        title=f"Title {number}",
        listing_date=moment.date(),
        scraped_at=moment + dt.timedelta(seconds=number),
        upvotes=number,
    )
    record.update(values)
    return record


#: Records no crawl stores but an archive another tool wrote may hold.
EDGE_RECORDS = [
    edge_record(1, title=""),
    edge_record(2, title="\x01\x02", url=""),
    edge_record(
        3,
        title=f"Title {NOT_XML}",
        abstract=f"Abstract {NOT_XML}",
        ai_summary=f"Summary {NOT_XML}",
        authors=[NOT_XML[:3], f"Author {NOT_XML}", "  "],
        ai_keywords=[NOT_XML[:3], f"keyword {NOT_XML}", ""],
        organization=f"Lab {NOT_XML}",
        url=f"{BASE}/papers/x{NOT_XML}",
    ),
    edge_record(
        4,
        title="non-BMP \U0001d518\U0001d52b\U0001d526 🤗👍🏽🧑‍🔬 \U0010fffd 中文 e\u0301 \u200f\u202eRTL\u202c",
        abstract="emoji 😀 & <b>x</b> ]]> \r\n crlf \t tab \u2028 \x85",
        authors=["Zoë 🤗", "李"],
        ai_keywords=["\U0001d528", "a&b", 'q"uote'],
        organization="Ünï <Lab>",
        rank=3,
        upvotes=1,
        submitted_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    ),
    edge_record(5, title="T" * 100_000, abstract="A" * 50_000),
    edge_record(6, title="  ", abstract="", ai_summary="", authors=[], ai_keywords=[]),
    edge_record(7, scraped_at=dt.datetime(1970, 1, 1, tzinfo=dt.UTC)),
]
EDGE_ABOUT = formats.About(
    fields=tuple(FeedRecord.model_fields), title=f"Feed & <title> {NOT_XML} \U0001d518", link=BASE
)


def written(kind: str, records: list[dict[str, Any]], about: formats.About) -> bytes:
    import io

    stream = io.BytesIO()
    formats.writer(kind)(records, stream, about)
    return stream.getvalue()


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_edge_cases_are_the_bytes_feedgen_wrote(kind: str) -> None:
    """Empty and blank titles, control characters in every text, non-BMP
    text, a 100 KB title, no papers at all: feedgen's bytes."""
    from tests.support.feedgen_feeds import feedgen_feed

    for records in (EDGE_RECORDS, EDGE_RECORDS[3:4], []):
        assert written(kind, records, EDGE_ABOUT) == feedgen_feed(kind, records, EDGE_ABOUT)
    empty = written(kind, [], EDGE_ABOUT)
    assert b"1970-01-01T00:00:00+00:00" in empty or b"Thu, 01 Jan 1970 00:00:00 +0000" in empty


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_a_feed_larger_than_its_memory_spool_is_the_same_bytes(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entries pass through a temporary file once past
    ``SPOOL_IN_MEMORY``: the bytes are those written in memory."""
    in_memory = written(kind, EDGE_RECORDS, EDGE_ABOUT)
    monkeypatch.setattr(formats, "SPOOL_IN_MEMORY", 1000)
    assert written(kind, EDGE_RECORDS, EDGE_ABOUT) == in_memory


def test_a_temporary_directory_that_cannot_be_written_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A feed whose entries cannot spill to the temporary directory (full,
    or gone): a one-line error that names it, and no output file."""
    import tempfile

    from digest_crawler.outputs.files import OutputError
    from tests.support.archive import make_archive

    archive_url = f"sqlite:///{tmp_path / 'papers.sqlite'}"
    make_archive(archive_url)
    monkeypatch.setattr(formats, "SPOOL_IN_MEMORY", 1000)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    with pytest.raises(OutputError, match=r"a temporary file in .*gone") as error:
        run(archive_url, tmp_path / "papers.atom")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "papers.atom").exists()


_TEXT = st.text(max_size=40)


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(
        st.tuples(_TEXT, _TEXT, st.none() | _TEXT, st.none() | st.lists(_TEXT, max_size=3)),
        max_size=4,
    ),
    title=_TEXT,
)
def test_any_text_gives_the_bytes_feedgen_wrote(
    texts: list[tuple[str, str, str | None, list[str] | None]], title: str
) -> None:
    """Any Unicode text (surrogates, controls, non-BMP) in the titles,
    abstracts, summaries, authors and keywords, and in the feed's title
    (``about``'s, after its fixed start): both feeds are feedgen's bytes."""
    from tests.support.feedgen_feeds import feedgen_feed

    records = [
        edge_record(
            number, title=t, abstract=a, ai_summary=summary, authors=names, ai_keywords=names
        )
        for number, (t, a, summary, names) in enumerate(texts, start=1)
    ]
    about = formats.About(
        fields=tuple(FeedRecord.model_fields),
        title=f"Hugging Face Daily Papers: {title}",
        link=BASE,
    )
    for kind in ("atom", "rss"):
        assert written(kind, records, about) == feedgen_feed(kind, records, about)
