"""Figure 13: adoption, what cites each paper (``/api/papers/{id}``), at a
pace faster than the site's published API budget (500 calls per 100 s
instead of per 300 s: the crawl's own work per call weighs three times as
much as it will), against the floor that pace sets.

- The scheduled daily run: its 6 listings (pages, at their own delay) and
  the calls for their papers and for those of the tail days (30, 60, 90,
  180 and 365 days back), 50 papers a day: how many calls, and the first to
  the last of them against (calls - 1) x window / quota. What that means at
  the site's own budget is said beside it.
- A whole archive read for the first time: a backfill through the API of
  days already stored, every listing call and every paper's call in the one
  bucket, against the floor of all of them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

#: The faster API pace (calls, window seconds); the site's is (500, 300).
PACE = (500, 100.0)
#: The site's own API budget for anonymous clients.
SITE_PACE = (500, 300.0)


def figure(quick: bool, workdir: Path) -> dict[str, Any]:
    from benchmarks.__main__ import FAST, FIRST, local_site, run_process, site_stats
    from digest_crawler import settings
    from tests.support.cli import crawl_command, span

    quota, window = PACE
    schedule = sorted(settings.DIGEST_REFRESH)
    tail = sorted(settings.DIGEST_ADOPTION_TAIL)
    today = FIRST + dt.timedelta(days=max(tail))
    database = f"DIGEST_DATABASE_URL=sqlite:///{workdir / 'adoption.sqlite'}"
    days_back = ",".join(str(n) for n in schedule + tail)

    def run(url: str, *arguments: str, adoption: bool, fast: bool) -> None:
        command = crawl_command(
            url, *arguments, "-s", database, "-s", "LOG_LEVEL=WARNING",
            *(FAST if fast else ()), feed=None, fast=False, adoption=adoption,
        )  # fmt: skip
        done = run_process(command, workdir)
        if done.status != 0:
            raise RuntimeError(f"crawl failed ({done.status}): {done.stderr[-2000:]}")

    # The scheduled run, on an archive that holds its tail days.
    with local_site(max(tail) + 1, api_quota=quota, quota=(10**6, window)) as url:
        today_setting = ("-s", f"DIGEST_TODAY={today}")
        run(url, "-a", f"refresh={days_back}", *today_setting, adoption=False, fast=True)
        before = site_stats(url)
        run(url, *today_setting, adoption=True, fast=False)
        served = site_stats(url)
    calls = int(served["adoption_calls"] - before["adoption_calls"])
    daily_span = served["last_api_call_at"] - served["first_api_call_at"]
    daily_floor = (calls - 1) * window / quota
    at_site = calls * SITE_PACE[1] / SITE_PACE[0] * (daily_span / daily_floor)

    # A whole archive's first read: its listings stored, then read again
    # through the API with adoption on.
    days = 2 if quick else 10
    (workdir / "adoption.sqlite").unlink()
    with local_site(days, api_quota=quota, quota=(10**6, window)) as url:
        last = FIRST + dt.timedelta(days=days - 1)
        run(url, *span(FIRST, last), adoption=False, fast=True)
        before = site_stats(url)
        run(url, *span(FIRST, last), "-a", "source=api", adoption=True, fast=False)
        served = site_stats(url)
    whole_calls = int(
        served["adoption_calls"]
        - before["adoption_calls"]
        + served["api_calls"]
        - before["api_calls"]
    )
    whole_span = served["last_api_call_at"] - served["first_api_call_at"]
    whole_floor = (whole_calls - 1) * window / quota
    ratio = max(daily_span / daily_floor, whole_span / whole_floor)
    return {
        "name": f"13. adoption calls at {quota} calls/{window:g} s",
        "measured": f"scheduled run: {calls} calls (days {','.join(map(str, schedule))} and"
        f" {','.join(map(str, tail))} back, 50 papers each), first to last {daily_span:.1f} s vs"
        f" floor {daily_floor:.1f} s ({daily_span / daily_floor:.2f}x), at the site's"
        f" {SITE_PACE[0]}/{SITE_PACE[1]:g} s about {at_site / 60:.1f} min;"
        f" first read of {days} days through the API: {whole_calls} calls, {whole_span:.1f} s vs"
        f" floor {whole_floor:.1f} s ({whole_span / whole_floor:.2f}x),"
        f" {served['too_many_requests']:.0f} x 429",
        "value": ratio,
        "goal": "<= 1.1x floor, 0 x 429",
        "met": ratio <= 1.1 and served["too_many_requests"] == 0,
        "details": {
            "daily_calls": calls,
            "daily_seconds": daily_span,
            "daily_floor_seconds": daily_floor,
            "daily_at_site_budget_seconds": at_site,
            "whole_calls": whole_calls,
            "whole_seconds": whole_span,
            "whole_floor_seconds": whole_floor,
            "too_many_requests": served["too_many_requests"],
        },
    }
