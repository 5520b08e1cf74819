"""Benchmarks: what the crawler costs against what the tools it stands on can do.

    python -m benchmarks [--quick] [--output DIR] [--only NAME ...]

Every figure is a ratio against a baseline measured in the same run on the
same machine. Prints a table and writes it as JSON and Markdown under
``benchmarks/results/`` (with CPU count, Python and library versions). Not
part of the tests' pass/fail: a smoke test only checks that every figure is
produced.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import adoption, feeds, pacing, search_index, startup

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "benchmarks" / "results"
# The first digest day: a backfill may not reach before it; 1,300 days from
# here end before today.
FIRST = dt.date(2023, 5, 1)
ENV = {
    **os.environ,
    "SCRAPY_SETTINGS_MODULE": "digest_crawler.settings",
    "PYTHONPATH": str(PROJECT),
}
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=WARNING"]


@dataclasses.dataclass
class Figure:
    name: str
    measured: str  # what was measured, with its numbers
    value: float | None  # the ratio or figure compared with the goal
    goal: str
    met: bool | None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Sizes:
    extraction_pages: int
    extraction_repeats: int
    e2e_days: int
    e2e_repeats: int
    storage_papers: int
    memory_days: tuple[int, int]
    politeness_days: int
    politeness_quota: tuple[int, float]
    export_papers: int
    export_repeats: int


QUICK = Sizes(8, 3, 60, 1, 10_000, (20, 200), 20, (20, 10.0), 5_000, 1)
FULL = Sizes(40, 5, 500, 2, 100_000, (100, 1300), 100, (20, 10.0), 110_000, 3)


# -- helpers ------------------------------------------------------------------


@contextlib.contextmanager
def local_site(
    days: int,
    first: dt.date = FIRST,
    quota: tuple[int, float] | None = None,
    api_quota: int | None = None,
) -> Iterator[str]:
    """The stand-in site in a process of its own; yields its URL."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.localsite",
        "--first",
        str(first),
        "--days",
        str(days),
    ]
    if quota:
        command += ["--quota", str(quota[0]), "--window", str(quota[1])]
    if api_quota:
        command += ["--api-quota", str(api_quota)]
    process = subprocess.Popen(command, cwd=PROJECT, env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait()


def site_stats(url: str) -> dict[str, float]:
    import urllib.request

    with urllib.request.urlopen(f"{url}/__stats") as answer:
        stats: dict[str, float] = json.load(answer)
        return stats


@dataclasses.dataclass
class Run:
    wall: float
    cpu: float
    max_rss_mb: float
    status: int
    stderr: str


def run_process(command: list[str], cwd: Path) -> Run:
    """Run a command; its wall time, CPU seconds (wait4) and peak RSS.

    The peak is the child's own ``VmHWM``, read from /proc while it runs:
    wait4's ``ru_maxrss`` would count the memory of this (large) process,
    from which the child was forked, before its exec.
    """
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=errors
        )
        peak_kb = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, _high_water_kb(process.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        return Run(
            wall, usage.ru_utime + usage.ru_stime, peak_kb / 1024, process.returncode, errors.read()
        )


def _high_water_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def crawl_listings(url: str, days: int, workdir: Path, *settings: str) -> Run:
    from tests.support.cli import crawl_command, span

    last = FIRST + dt.timedelta(days=days - 1)
    database = f"DIGEST_DATABASE_URL=sqlite:///{workdir / 'bench.sqlite'}"
    command = crawl_command(
        url, *span(FIRST, last), "-s", database, *settings, feed=None, fast=False
    )
    run = run_process(command, workdir)
    if run.status != 0:
        raise RuntimeError(f"crawl failed ({run.status}): {run.stderr[-2000:]}")
    return run


def best_of(repeats: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


# -- the figures ----------------------------------------------------------------


def extraction(sizes: Sizes) -> Figure:
    import parsel
    from scrapy.http import HtmlResponse

    from benchmarks.localsite import listing
    from digest_crawler.items import Listing
    from digest_crawler.periods import Period
    from digest_crawler.site.reading import Answer, ListingReader

    days = [FIRST + dt.timedelta(days=n) for n in range(sizes.extraction_pages)]
    pages = [(day, listing(day)) for day in days]

    def ours() -> int:
        count = 0
        for day, body in pages:
            # The reading rules as the spider runs them, without a crawler: one
            # listing per page, its papers loaded (validation is a pipeline's).
            reader = ListingReader(Period("day", day), "http://127.0.0.1")
            response = HtmlResponse(url=reader.url, body=body, encoding="utf-8")
            found = reader.read(Answer.from_response(response))
            assert isinstance(found, Listing)
            count += len(found.papers)
        return count

    def bare() -> int:
        count = 0
        for _, body in pages:
            props = (
                parsel.Selector(text=body.decode("utf-8"))
                .xpath('//*[@data-target="DailyPapers"]/@data-props')
                .get()
            )
            count += len(json.loads(props or "")["dailyPapers"])
        return count

    assert ours() == bare() == 50 * len(pages)
    ours_s, bare_s = (
        best_of(sizes.extraction_repeats, ours),
        best_of(sizes.extraction_repeats, bare),
    )
    details: dict[str, Any] = {
        "pages": len(pages),
        "ours_ms_per_page": ours_s / len(pages) * 1000,
        "parsel_json_ms_per_page": bare_s / len(pages) * 1000,
    }
    try:
        from bs4 import BeautifulSoup

        def soup() -> int:
            count = 0
            for _, body in pages:
                element = BeautifulSoup(body, "lxml").select_one('[data-target="DailyPapers"]')
                assert element is not None
                count += len(json.loads(str(element["data-props"]))["dailyPapers"])
            return count

        details["beautifulsoup_ms_per_page"] = (
            best_of(sizes.extraction_repeats, soup) / len(pages) * 1000
        )
    except ImportError:
        details["beautifulsoup_ms_per_page"] = None
    ratio = ours_s / bare_s
    bs = details["beautifulsoup_ms_per_page"]
    return Figure(
        "1. extraction per page",
        f"ours {details['ours_ms_per_page']:.2f} ms vs parsel+json {details['parsel_json_ms_per_page']:.2f} ms"
        + (f" (BeautifulSoup {bs:.2f} ms)" if bs else " (BeautifulSoup not installed)"),
        ratio,
        "<= 1.2x",
        ratio <= 1.2,
        details,
    )


def end_to_end(sizes: Sizes, workdir: Path) -> Figure:
    """Best of ``e2e_repeats`` runs of each, taken in turns: on a shared
    machine one run of either can be slowed by a neighbour."""
    days = sizes.e2e_days
    ours_runs, baseline_runs = [], []
    with local_site(days) as url:
        baseline_command = [
            sys.executable,
            "-m",
            "scrapy",
            "runspider",
            "benchmarks/baseline_spider.py",
            "-a",
            f"base={url}",
            "-a",
            f"first={FIRST}",
            "-a",
            f"days={days}",
            *FAST,
        ]
        for repeat in range(sizes.e2e_repeats):
            ours_runs.append(crawl_listings(url, days, _fresh(workdir, f"run-{repeat}"), *FAST))
            baseline = run_process(baseline_command, PROJECT)
            if baseline.status != 0:
                raise RuntimeError(baseline.stderr[-2000:])
            baseline_runs.append(baseline)
    ours, baseline = _best(ours_runs), _best(baseline_runs)
    ours_ppm, base_ppm = days / ours.wall * 60, days / baseline.wall * 60
    throughput, cpu = ours_ppm / base_ppm, baseline.cpu / ours.cpu
    return Figure(
        f"2. end to end, {days} days",
        f"ours {ours_ppm:.0f} pages/min, {ours.cpu:.1f} CPU s; bare spider {base_ppm:.0f} pages/min, "
        f"{baseline.cpu:.1f} CPU s (throughput {throughput:.2f}x, CPU {cpu:.2f}x)",
        min(throughput, cpu),
        "throughput >= 0.6x, CPU >= 0.5x",
        throughput >= 0.6 and cpu >= 0.5,
        {
            "ours_pages_per_min": ours_ppm,
            "baseline_pages_per_min": base_ppm,
            "ours_cpu_s": ours.cpu,
            "baseline_cpu_s": baseline.cpu,
            "throughput_ratio": throughput,
            "cpu_ratio": cpu,
            "ours_runs_cpu_s": [r.cpu for r in ours_runs],
            "baseline_runs_cpu_s": [r.cpu for r in baseline_runs],
        },
    )


def _best(runs: list[Run]) -> Run:
    """The shortest wall time and the fewest CPU seconds of ``runs``."""
    return dataclasses.replace(
        runs[0], wall=min(r.wall for r in runs), cpu=min(r.cpu for r in runs)
    )


def storage_speed(sizes: Sizes, workdir: Path) -> Figure:
    from benchmarks.storage import raw_sqlite_baseline, store_papers

    sqlite_rate, sqlite_rows = store_papers(
        f"sqlite:///{workdir / 'storage.sqlite'}", sizes.storage_papers
    )
    raw_rate = raw_sqlite_baseline(str(workdir / "raw.sqlite"), sizes.storage_papers)
    postgres = os.environ.get(
        "DIGEST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    postgres_rate: float | None = None
    try:
        postgres_rate, _ = store_papers(postgres, sizes.storage_papers, fresh_schema=True)
    except Exception as exc:  # no server here: reported, not fatal
        print(f"PostgreSQL storage benchmark skipped: {str(exc).splitlines()[0]}", file=sys.stderr)
    pg = f", PostgreSQL {postgres_rate:,.0f} papers/s" if postgres_rate else ", PostgreSQL n/a"
    return Figure(
        f"3. storage, {sizes.storage_papers:,} papers in 50-paper days",
        f"SQLite {sqlite_rate:,.0f} papers/s, {sqlite_rows:,.0f} rows/s in all tables "
        f"({sqlite_rate / raw_rate:.2f}x bare sqlite3 plain inserts of the same papers, "
        f"{raw_rate:,.0f}/s){pg}",
        sqlite_rate,
        ">= 100,000 rows/s (SQLite)",
        sqlite_rate >= 100_000,
        {
            "sqlite_papers_per_s": sqlite_rate,
            "sqlite_rows_per_s_all_tables": sqlite_rows,
            "bare_sqlite3_papers_per_s": raw_rate,
            "ratio_to_bare": sqlite_rate / raw_rate,
            "postgresql_papers_per_s": postgres_rate,
        },
    )


def memory(sizes: Sizes, workdir: Path) -> Figure:
    small_days, large_days = sizes.memory_days
    peaks = {}
    for days in (small_days, large_days):
        with local_site(days) as url:
            run_dir = workdir / f"memory-{days}"
            run_dir.mkdir()
            peaks[days] = crawl_listings(url, days, run_dir, *FAST).max_rss_mb
    growth = peaks[large_days] - peaks[small_days]
    return Figure(
        f"4. peak RSS, {small_days} vs {large_days} days",
        f"{peaks[small_days]:.0f} MB vs {peaks[large_days]:.0f} MB (+{growth:.1f} MB)",
        growth,
        "<= +20 MB",
        growth <= 20,
        {"small_mb": peaks[small_days], "large_mb": peaks[large_days]},
    )


def politeness(sizes: Sizes, workdir: Path) -> Figure:
    """The whole crawl's wall time against the least time the quota allows
    for the requests the site counted (the pages and robots.txt, evenly
    spaced), and the 429s drawn."""
    days, (quota, window) = sizes.politeness_days, sizes.politeness_quota
    with local_site(days, quota=(quota, window)) as url:
        run = crawl_listings(
            url, days, workdir, "-s", "LOG_LEVEL=WARNING"
        )  # defaults but the base URL
        served = site_stats(url)
    counted = int(served["pages"] + served["robots"])
    floor = counted / quota * window
    span = served["last_page_at"] - served["first_page_at"]
    ratio = run.wall / floor
    return Figure(
        f"5. politeness, {days} days at {quota} pages/{window:g} s",
        f"{run.wall:.1f} s (first to last page {span:.1f} s) vs floor {floor:.1f} s "
        f"for {counted} requests, {served['too_many_requests']:.0f} x 429",
        ratio,
        "<= 1.1x floor, 0 x 429",
        ratio <= 1.1 and served["too_many_requests"] == 0,
        {
            "seconds": run.wall,
            "first_to_last_page_seconds": span,
            "floor_seconds": floor,
            "requests_counted": counted,
            "too_many_requests": served["too_many_requests"],
        },
    )


#: The site's published budgets per window: (pages, API calls, window seconds).
SITE_BUDGETS = (100, 500, 300.0)


def politeness_api(sizes: Sizes, workdir: Path) -> Figure:
    """A backfill through the API door against the floor the site's own
    published API policy sets (500 calls per 300 s: one per 0.6 s), at that
    policy: the pace a real backfill runs at, so the crawl's own work per
    call (about 45 ms) weighs as it does there. The robots.txt request
    counts in the pages' bucket, not against the API's floor."""
    pages, api_quota, window = SITE_BUDGETS
    days = sizes.politeness_days
    with local_site(days, quota=(pages, window), api_quota=api_quota) as url:
        run = crawl_listings(url, days, workdir, "-a", "source=api", "-s", "LOG_LEVEL=WARNING")
        served = site_stats(url)
    calls = int(served["api_calls"])
    floor = calls / api_quota * window
    span = served["last_call_at"] - served["first_call_at"]
    ratio = run.wall / floor
    return Figure(
        f"5b. politeness through the API, {days} days at {api_quota} calls/{window:g} s",
        f"{run.wall:.1f} s (first to last call {span:.1f} s) vs floor {floor:.1f} s "
        f"for {calls} calls, {served['too_many_requests']:.0f} x 429",
        ratio,
        "<= 1.1x floor, 0 x 429",
        ratio <= 1.1 and served["too_many_requests"] == 0,
        {
            "seconds": run.wall,
            "first_to_last_call_seconds": span,
            "floor_seconds": floor,
            "calls_counted": calls,
            "too_many_requests": served["too_many_requests"],
        },
    )


def daily_requests(workdir: Path) -> Figure:
    """The scheduled run with the project's refresh schedule: its requests,
    and how far back it reads (the horizon after which a day is settled)."""
    from digest_crawler import settings
    from tests.support.cli import crawl_command

    schedule = sorted(settings.DIGEST_REFRESH)
    horizon = schedule[-1]
    today = dt.datetime.now(dt.UTC).date()
    first = today - dt.timedelta(days=horizon)
    with local_site(horizon + 1, first=first) as url:
        database = f"DIGEST_DATABASE_URL=sqlite:///{workdir / 'daily.sqlite'}"
        command = crawl_command(url, "-s", database, *FAST, feed=None, fast=False)
        run = run_process(command, workdir)
        served = site_stats(url)
    if run.status != 0:
        raise RuntimeError(run.stderr[-2000:])
    pages = served["pages"] + served["not_found"]
    return Figure(
        "6. requests of a scheduled daily run",
        f"{pages} pages + {served['robots']} robots.txt, horizon {horizon} days"
        f" (days {','.join(map(str, schedule))} before today)",
        pages,
        f"<= {len(schedule)} + robots.txt, horizon >= 14 days",
        pages <= len(schedule) and served["robots"] <= 1 and horizon >= 14,
        {"pages": pages, "robots": served["robots"], "horizon_days": horizon},
    )


def raw_answers(sizes: Sizes, workdir: Path) -> Figure:
    """The raw answers kept as WARC: the crawl's CPU and wall time with and
    without them (in turns, best of ``e2e_repeats``), and the bytes kept per
    listing read (a first read, and a settled day read again: a revisit)
    against the archive's own bytes per listing; a year of scheduled runs
    reads 365 x 6 listings, each read of a day within its horizon new bytes."""
    days = sizes.e2e_days // 2
    on_runs, off_runs = [], []
    with local_site(days) as url:
        for repeat in range(sizes.e2e_repeats):
            kept = _fresh(workdir, f"on-{repeat}")
            on_runs.append(crawl_listings(url, days, kept, *FAST))
            bare = _fresh(workdir, f"off-{repeat}")
            off_runs.append(
                crawl_listings(url, days, bare, *FAST, "-s", "DIGEST_RAW_ANSWERS=False")
            )
        first_read = sum(path.stat().st_size for path in (kept / "raw").iterdir())
        crawl_listings(url, days, kept, *FAST)  # the same bytes again: revisits
    everything = sum(path.stat().st_size for path in (kept / "raw").iterdir())
    database = sum(path.stat().st_size for path in kept.glob("bench.sqlite*"))
    on, off = _best(on_runs), _best(off_runs)
    per_read, per_revisit = first_read / days, (everything - first_read) / days
    per_listing_db = database / days
    year = 365 * 6 * per_read
    cpu = on.cpu / off.cpu
    return Figure(
        f"8. raw answers kept as WARC, {days} days",
        f"crawl CPU {on.cpu:.1f} s kept vs {off.cpu:.1f} s not ({cpu:.2f}x), wall"
        f" {on.wall:.1f} vs {off.wall:.1f} s; {per_read / 1024:.1f} KB a listing read"
        f" ({per_revisit / 1024:.2f} KB read again unchanged) against the archive's"
        f" {per_listing_db / 1024:.1f} KB a listing; a year of daily runs"
        f" {year / 2**20:.0f} MB",
        cpu,
        "crawl CPU <= 1.1x without",
        cpu <= 1.1,
        {
            "cpu_kept_s": on.cpu,
            "cpu_not_kept_s": off.cpu,
            "wall_kept_s": on.wall,
            "wall_not_kept_s": off.wall,
            "bytes_per_read": per_read,
            "bytes_per_unchanged_read": per_revisit,
            "archive_bytes_per_listing": per_listing_db,
            "bytes_per_year_of_daily_runs": year,
        },
    )


def export_speed(sizes: Sizes, workdir: Path) -> Figure:
    """CPU per record of ``scrapy export`` (in this process, without the
    command's start) in each format, against a bare ``sqlite3`` +
    ``json.dumps`` dump of the same rows; the best of ``export_repeats``."""
    from benchmarks.export import bare_dump, build_archive, cpu_in_turns, ours
    from digest_crawler.outputs.formats import FORMATS

    database = workdir / "export.sqlite"
    build_archive(database, sizes.export_papers)
    works: dict[str, Callable[[], int]] = {
        "bare": lambda: bare_dump(database, workdir / "bare.jsonl")
    }
    for kind in FORMATS:
        works[kind] = functools.partial(ours, database, workdir / f"out.{kind}", kind)
    measured = cpu_in_turns(sizes.export_repeats, works)
    bare_s, bare_count = measured["bare"]
    per_record = {name: seconds / count * 1e6 for name, (seconds, count) in measured.items()}
    ratios = {kind: measured[kind][0] / bare_s for kind in FORMATS}
    assert all(count == bare_count for _, count in measured.values()), measured
    shown = ", ".join(f"{kind} {per_record[kind]:.1f} us ({ratios[kind]:.2f}x)" for kind in FORMATS)
    return Figure(
        f"7. export, {bare_count:,} papers",
        f"CPU per record: bare sqlite3+json.dumps {per_record['bare']:.1f} us; {shown}",
        ratios["jsonl"],
        "JSONL <= 1.3x bare",
        ratios["jsonl"] <= 1.3,
        {
            "papers": bare_count,
            "cpu_us_per_record": per_record,
            "ratio_to_bare": ratios,
        },
    )


# -- the report -------------------------------------------------------------------


def environment() -> dict[str, Any]:
    packages = (
        "scrapy",
        "parsel",
        "lxml",
        "itemloaders",
        "pydantic",
        "sqlalchemy",
        "twisted",
        "psycopg",
        "beautifulsoup4",
        "pyarrow",
    )
    versions: dict[str, str | None] = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def markdown(figures: list[Figure], env: dict[str, Any], mode: str, when: str) -> str:
    lines = [
        f"# Benchmarks ({mode}, {when})",
        "",
        f"{env['cpu_count']} CPUs, Python {env['python']}, "
        + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v),
        "",
        "| figure | measured | value | goal | met |",
        "|---|---|---|---|---|",
    ]
    for figure in figures:
        value = "n/a" if figure.value is None else f"{figure.value:,.2f}"
        met = {True: "yes", False: "**no**", None: "n/a"}[figure.met]
        lines.append(f"| {figure.name} | {figure.measured} | {value} | {figure.goal} | {met} |")
    return "\n".join(lines) + "\n"


STEPS = (
    "extraction",
    "end_to_end",
    "storage",
    "memory",
    "politeness",
    "politeness_api",
    "pacing_pages",
    "pacing_api",
    "daily",
    "export",
    "raw",
    "feeds",
    "startup",
    "search",
    "disk",
    "adoption",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Benchmarks of digest_crawler."
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a run under a minute")
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="where to write the JSON and Markdown"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=STEPS,
        metavar="NAME",
        help=f"run only these figures (of: {', '.join(STEPS)})",
    )
    options = parser.parse_args(argv)
    sizes, mode = (QUICK, "quick") if options.quick else (FULL, "full")
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as temporary:
        workdir = Path(temporary)
        steps: dict[str, Callable[[], Figure]] = {
            "extraction": lambda: extraction(sizes),
            "end_to_end": lambda: end_to_end(sizes, _fresh(workdir, "e2e")),
            "storage": lambda: storage_speed(sizes, _fresh(workdir, "storage")),
            "memory": lambda: memory(sizes, _fresh(workdir, "memory")),
            "politeness": lambda: politeness(sizes, _fresh(workdir, "politeness")),
            "politeness_api": lambda: politeness_api(sizes, _fresh(workdir, "politeness_api")),
            "pacing_pages": lambda: Figure(
                **pacing.figure("pages", sizes.politeness_days, _fresh(workdir, "pacing_pages"))
            ),
            "pacing_api": lambda: Figure(
                **pacing.figure("api", sizes.politeness_days, _fresh(workdir, "pacing_api"))
            ),
            "daily": lambda: daily_requests(_fresh(workdir, "daily")),
            "export": lambda: export_speed(sizes, _fresh(workdir, "export")),
            "raw": lambda: raw_answers(sizes, _fresh(workdir, "raw")),
            "feeds": lambda: Figure(**feeds.peak_memory(sizes is QUICK, _fresh(workdir, "feeds"))),
            "startup": lambda: Figure(
                **startup.start_up(sizes is QUICK, _fresh(workdir, "startup"))
            ),
            "search": lambda: Figure(
                **search_index.search_figure(sizes is QUICK, _fresh(workdir, "search"))
            ),
            "disk": lambda: Figure(
                **search_index.disk_figure(sizes is QUICK, _fresh(workdir, "disk"))
            ),
            "adoption": lambda: Figure(
                **adoption.figure(sizes is QUICK, _fresh(workdir, "adoption"))
            ),
        }
        for name, step in steps.items():
            if options.only and name not in options.only:
                continue
            started = time.perf_counter()
            figure = step()
            figure.details["benchmark_seconds"] = time.perf_counter() - started
            figures.append(figure)
            print(
                f"{figure.name}: {figure.measured} -> {'met' if figure.met else 'MISSED'} ({figure.goal})",
                flush=True,
            )
    env = environment()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    options.output.mkdir(parents=True, exist_ok=True)
    if options.only:
        mode += "-only-" + "-".join(options.only)
    stem = options.output / f"{mode}-{when}"
    stem.with_suffix(".json").write_text(
        json.dumps(
            {
                "mode": mode,
                "when": when,
                "environment": env,
                "figures": [dataclasses.asdict(f) for f in figures],
            },
            indent=2,
        )
        + "\n"
    )
    report = markdown(figures, env, mode, when)
    stem.with_suffix(".md").write_text(report)
    print()
    print(report)
    print(f"Written: {stem}.json, {stem}.md")
    return 0


def _fresh(root: Path, name: str) -> Path:
    path = root / name
    path.mkdir()
    return path


if __name__ == "__main__":
    sys.exit(main())
