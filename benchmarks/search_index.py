"""The search index's costs: ``scrapy search`` against a bare FTS5 query of
the same best matches, and the archive's bytes per paper (and the storage's
CPU) with and without the index, on archives of realistic texts."""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import re
import resource
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.export import insert_archive
from digest_crawler.items import Listing
from digest_crawler.paper import Paper, search_weight
from digest_crawler.periods import Period
from digest_crawler.storage.archive import CrawlArchive
from digest_crawler.storage.schema import (
    SEARCH_COLUMNS,
    SEARCH_TABLE,
    organization_key,
    papers,
)
from tests.support.seed import seed_papers
from tests.support.sitegen import API_CAPTURE, API_CAPTURE_LIMIT25

#: The search figure's archives (papers): a size and twice it; and how
#: many times each query is timed.
SEARCH_SIZES = {"quick": (2_500, 5_000), "full": (55_000, 110_000)}
SEARCH_REPEATS = {"quick": 3, "full": 5}
#: The disk figure's days of 50 papers.
DISK_DAYS = {"quick": 40, "full": 400}
#: The whole digest's archive when the issue was measured: 65,750 papers
#: over 1,315 days.
DAYS_PER_PAPER = 1_315 / 65_750
PAPERS_PER_DAY = 50
#: A scheduled run's reads (days before its today): each day is read six
#: times, as a daily run reads it.
REFRESH = (0, 1, 2, 3, 7, 14)
#: Queries as a person types them (words, OR, a phrase, a prefix), each
#: found in 1 to 10 % of these papers, as a topic is in the digest's.
QUERIES = (
    "diffusion",
    "graph",
    "audio OR speech",
    '"molecular generation"',
    "segment*",
    "privacy",
)


@functools.cache
def _pools() -> dict[str, list[Any]]:
    """What realistic texts are drawn from: the real captures' sentences,
    titles, authors, AI summaries' sentences, keywords and organizations."""
    entries: list[dict[str, Any]] = []
    for capture in (API_CAPTURE, API_CAPTURE_LIMIT25):
        entries += json.loads(capture.read_text(encoding="utf-8"))
    abstracts = [e["paper"]["summary"] for e in entries] + [p.abstract for p in seed_papers()]
    return {
        "titles": [e["paper"]["title"] for e in entries] + [p.title for p in seed_papers()],
        "sentences": [
            s for text in abstracts for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20
        ],
        "words": sorted({w for text in abstracts for w in re.findall(r"[A-Za-z][a-z-]{3,}", text)}),
        "authors": sorted({a["name"] for e in entries for a in e["paper"]["authors"]}),
        "keywords": sorted({k for e in entries for k in e["paper"].get("ai_keywords") or []}),
        "organizations": sorted(
            {
                (e["organization"]["fullname"], e["organization"]["name"])
                for e in entries
                if "organization" in e
            }
        ),
    }


def texts(number: int) -> dict[str, Any]:
    """The searched texts of the ``number``-th paper: drawn from the real
    captures (an abstract of 6 to 11 of their sentences, 2 to 14 of their
    authors, ...), different for every paper as real ones are (a copy of
    one text would tie every score)."""
    pools = _pools()
    draw = random.Random(number)
    name = draw.choice(pools["words"]).capitalize() + draw.choice(pools["words"])[:3]
    organization = draw.choice(pools["organizations"]) if draw.random() < 0.6 else (None, None)
    summarized = draw.random() < 0.8
    return {
        "title": f"{name}: {draw.choice(pools['titles']).partition(': ')[2] or draw.choice(pools['titles'])}",
        "abstract": " ".join(draw.sample(pools["sentences"], draw.randint(6, 11))),
        "authors": draw.sample(pools["authors"], draw.randint(2, 14)),
        "organization": organization[0],
        "organization_id": organization[1],
        "ai_summary": draw.choice(pools["sentences"]) if summarized else None,
        "ai_keywords": draw.sample(pools["keywords"], draw.randint(4, 12)) if summarized else None,
    }


# -- search: ours against a bare FTS5 query ----------------------------------------


def build_by_inserts(path: Path, count: int) -> None:
    """``count`` papers of realistic texts over the whole digest's span of
    days (as its archive had them), every tenth day settled; rows inserted
    directly (no crawl), the index kept by the archive's own triggers."""
    days = max(1, round(count * DAYS_PER_PAPER))
    first = dt.date(2023, 5, 1)
    moment = dt.datetime(2026, 8, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)

    def rows() -> Iterator[dict[str, Any]]:
        for n in range(count):
            day = first + dt.timedelta(days=n * days // count)
            arxiv_id = f"{2000 + n // 100_000:04d}.{n % 100_000:05d}"
            paper = texts(n)
            yield paper | {
                "arxiv_id": arxiv_id,
                "url": f"https://huggingface.co/papers/{arxiv_id}",
                "author_count": len(paper["authors"]),
                "organization_key": organization_key(paper["organization"]),
                "organization_id_key": organization_key(paper["organization_id"]),
                "published_at": day - dt.timedelta(days=1),
                "listing_date": day,
                "submitted_at": moment,
                "upvotes": n % 300,
                "num_comments": n % 5,
                "scraped_at": moment,
                "first_seen_at": moment,
                "last_seen_at": moment,
                "changed_at": moment,
            }

    insert_archive(path, rows(), first, days, moment)


def bare_fts5(path: Path, limit: int) -> Callable[[str], list[int]]:
    """The best ``limit`` matches of a query by FTS5 alone (``bm25()`` with
    search's weights): the rowids, with the bare driver."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    weights = ", ".join(str(search_weight(name).weight) for name in SEARCH_COLUMNS)
    sql = (
        f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH ?"
        f" ORDER BY bm25({SEARCH_TABLE}, {weights}) LIMIT {limit}"
    )
    return lambda query: [rowid for (rowid,) in connection.execute(sql, (query,))]


def ours(path: Path, limit: int) -> Callable[[str], list[int]]:
    """``scrapy search`` without the command's start: ``search()`` on the
    readers' connection; the rowids of its matches."""
    from digest_crawler.storage.queries import PaperFilter, open_archive
    from digest_crawler.storage.search import search

    connection = open_archive(f"sqlite:///{path}").connect()
    rowids: dict[str, int] = dict(
        connection.execute(sa.select(papers.c.arxiv_id, sa.literal_column("papers.rowid"))).all()
    )
    return lambda query: [
        rowids[match.arxiv_id] for match in search(connection, query, PaperFilter(), limit)
    ]


def search_speed(counts: tuple[int, ...], repeats: int, workdir: Path) -> dict[str, Any]:
    """At each archive size, the CPU of all of ``QUERIES`` through
    ``search()`` against the bare FTS5 query (the best of ``repeats``, taken
    in turns)."""
    measured: dict[str, Any] = {}
    for count in counts:
        path = workdir / f"search-{count}.sqlite"
        build_by_inserts(path, count)
        works = {"bare": bare_fts5(path, 10), "ours": ours(path, 10)}
        best = {name: float("inf") for name in works}
        for query in QUERIES:  # (which of equal scores come first is search's own rule)
            assert len(works["ours"](query)) == len(works["bare"](query)) == 10, query
        for _ in range(repeats):
            for name, work in works.items():
                started = time.process_time()
                for query in QUERIES:
                    work(query)
                best[name] = min(best[name], time.process_time() - started)
        matches = sqlite3.connect(path).execute(
            f"SELECT count(*) FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH ?", (QUERIES[0],)
        )
        measured[str(count)] = {
            "ours_ms": best["ours"] / len(QUERIES) * 1000,
            "bare_ms": best["bare"] / len(QUERIES) * 1000,
            "ratio": best["ours"] / best["bare"],
            f"matches_of_{QUERIES[0]}": matches.fetchone()[0],
        }
    return measured


def search_figure(quick: bool, workdir: Path) -> dict[str, Any]:
    """The figure's fields (``Figure``'s): its value the larger ratio."""
    mode = "quick" if quick else "full"
    counts = SEARCH_SIZES[mode]
    measured = search_speed(counts, SEARCH_REPEATS[mode], workdir)
    worst = max(size["ratio"] for size in measured.values())
    shown = "; ".join(
        f"{int(count):,} papers: {size['ours_ms']:.1f} ms vs {size['bare_ms']:.1f} ms"
        f" ({size['ratio']:.2f}x)"
        for count, size in measured.items()
    )
    return {
        "name": f"11. search, {' and '.join(f'{c:,}' for c in counts)} papers",
        "measured": f"CPU per query, scrapy search's search() vs a bare FTS5 query of the same"
        f" top 10 ({len(QUERIES)} queries): {shown}",
        "value": worst,
        "goal": "<= 1.1x bare FTS5",
        "met": worst <= 1.1,
        "details": {"queries": QUERIES, "sizes": measured},
    }


# -- disk: an archive as a crawl writes it ----------------------------------------


def listing(
    day_number: int, first: dt.date, read: int, summarized: bool, now: dt.datetime
) -> Listing:
    """The ``read``-th read of a day's listing, validated: the counts grow
    with every read; the AI summary and keywords are there when
    ``summarized`` (the site adds them a while after the listing day)."""
    day = first + dt.timedelta(days=day_number)
    ranked = []
    for k in range(PAPERS_PER_DAY):
        number = day_number * PAPERS_PER_DAY + k
        fields = texts(number)
        if not summarized:
            fields |= {"ai_summary": None, "ai_keywords": None}
        arxiv_id = f"{day:%y%m}.{day.day:02d}{k:03d}"
        fields |= {
            "arxiv_id": arxiv_id,
            "url": f"https://huggingface.co/papers/{arxiv_id}",
            "author_count": len(fields["authors"]),
            "published_at": day - dt.timedelta(days=1),
            "listing_date": day,
            "submitted_at": dt.datetime.combine(day, dt.time(), dt.UTC),
            "upvotes": number % 50 * (read + 1),
            "num_comments": read,
            "github_repo": "https://github.com/example/repo" if number % 2 else None,
            "github_stars": number % 100 * (read + 1) if number % 2 else None,
            "thumbnail": "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/"
            f"{arxiv_id}.png",
            "submitted_by": "akhaliq",
            "scraped_at": now,
        }
        given = {name: value for name, value in fields.items() if value is not None}
        ranked.append((k + 1, Paper.model_validate(given)))
    item = Listing(day=day, url=f"https://huggingface.co/papers/date/{day}", outcome="served")
    item.valid = ranked
    return item


def build_by_crawl(
    path: Path, days: int, index: bool = True, schedule: tuple[int, ...] = REFRESH
) -> float:
    """An archive of ``days`` days of 50 papers as a crawl writes it, through
    its storage (``CrawlArchive``: a run a day, each of its listings in one
    transaction): each day read at each of ``schedule``'s days after it, as
    the scheduled runs of the archive's life read it; ``(0,)``: a backfill
    of days long past (each read once, its AI summaries there). Without
    ``index``, the search index is dropped before the first write. The CPU
    seconds of the listings' storage."""
    first = dt.date(2023, 5, 1)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cpu = 0.0
    reads: dict[int, int] = {}
    for today in range(days + max(schedule)):
        read = sorted(today - back for back in schedule if 0 <= today - back < days)
        if not read:
            continue
        archive = CrawlArchive(f"sqlite:///{path}", 500, max(REFRESH), first + dt.timedelta(today))
        if today == 0:  # later, an upgrade would rebuild an index dropped on purpose
            archive.upgrade()
            if not index:
                with archive.engine.begin() as connection:
                    for statement in ("insert", "delete", "update"):
                        connection.exec_driver_sql(f"DROP TRIGGER {SEARCH_TABLE}_{statement}")
                    connection.exec_driver_sql(f"DROP TABLE {SEARCH_TABLE}")
        periods = [Period("day", first + dt.timedelta(d)) for d in read]
        archive.start_run("daily", {}, periods, now)
        for day_number in read:
            now += dt.timedelta(seconds=5)
            done = reads.get(day_number, 0)
            reads[day_number] = done + 1
            item = listing(day_number, first, done, done > 0 or len(schedule) == 1, now)
            before = resource.getrusage(resource.RUSAGE_SELF)
            archive.store(item, now)
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu += after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        archive.finish_run(now, "finished", {})
        archive.close()
    return cpu


#: FTS5's options measured against ours (``detail=full``, the default): the
#: documented query syntax needs full detail ("phrases" and NEAR need the
#: positions, column filters the columns), ``bm25()`` the column sizes.
INDEX_OPTIONS = {
    "ours": "",
    "columnsize=0": ", columnsize=0",
    "detail=column": ", detail=column",
    "detail=none": ", detail=none",
}


def index_options(path: Path) -> dict[str, float]:
    """The bytes per paper of an index of the archive's papers made with
    each of ``INDEX_OPTIONS`` (by ``rebuild``, merged into one segment)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        count = connection.execute("SELECT count(*) FROM papers").fetchone()[0]
        definition = connection.execute(
            "SELECT sql FROM sqlite_master WHERE name = ?", (SEARCH_TABLE,)
        ).fetchone()[0]
        sizes = {}
        for name, options in INDEX_OPTIONS.items():
            variant = definition.replace(SEARCH_TABLE, "variant", 1)
            connection.execute(variant[: variant.rindex(")")] + options + ")")
            connection.execute("INSERT INTO variant(variant) VALUES ('rebuild')")
            sizes[name] = (
                connection.execute(
                    "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'variant%'"
                ).fetchone()[0]
                / count
            )
            connection.execute("DROP TABLE variant")
    finally:
        connection.close()
    return sizes


def bytes_per_paper(path: Path) -> dict[str, float]:
    """The file's bytes per paper (after a checkpoint of its write-ahead
    log), and its search index's (FTS5's table and shadow tables)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        count = connection.execute("SELECT count(*) FROM papers").fetchone()[0]
        index = connection.execute(
            "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE ?", (f"{SEARCH_TABLE}%",)
        ).fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        page = connection.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()
    return {
        "papers": count,
        "bytes_per_paper": path.stat().st_size / count,
        "index_bytes_per_paper": index / count,
        "free_bytes_per_paper": free * page / count,
    }


def disk_figure(quick: bool, workdir: Path) -> dict[str, Any]:
    """The figure's fields (``Figure``'s): its value the bytes per paper
    with the index."""
    days = DISK_DAYS["quick" if quick else "full"]
    cpu: dict[tuple[str, bool], float] = {}
    size = {}
    for kind, schedule in (("backfill", (0,)), ("life", REFRESH)):
        for index in (True, False):
            path = workdir / f"{kind}-{'with' if index else 'without'}-index.sqlite"
            cpu[kind, index] = build_by_crawl(path, days, index, schedule)
            if kind == "life":
                size[index] = bytes_per_paper(path)
    options = index_options(workdir / "life-with-index.sqlite")
    with_index, without = size[True]["bytes_per_paper"], size[False]["bytes_per_paper"]
    ratio = {kind: cpu[kind, True] / cpu[kind, False] for kind in ("backfill", "life")}
    return {
        "name": f"12. archive bytes per paper, {days * PAPERS_PER_DAY:,} papers each read"
        f" {len(REFRESH)} times",
        "measured": f"SQLite {with_index:,.0f} B with the search index"
        f" ({size[True]['index_bytes_per_paper']:,.0f} B of it), {without:,.0f} B without;"
        f" storage CPU with the index {ratio['life']:.2f}x without"
        f" ({cpu['life', True]:.1f} vs {cpu['life', False]:.1f} s), in a backfill"
        f" {ratio['backfill']:.2f}x",
        "value": with_index,
        "goal": "<= 3,500 B with the index",
        "met": with_index <= 3_500,
        "details": {
            "with_index": size[True],
            "without_index": size[False],
            "storage_cpu_s": {
                f"{kind}, {'with' if index else 'without'} index": seconds
                for (kind, index), seconds in cpu.items()
            },
            "index_bytes_per_paper_by_option": options,
        },
    }
