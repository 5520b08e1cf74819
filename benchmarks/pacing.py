"""Pacing at a pace faster than the site's: does a backfill keep the pace a
site publishes when the crawl's own work per request (reading, validating
and storing a listing) is no longer small beside it?

Figures 5 and 5b time whole runs, the process's start and stop included.
Here the measure is the pacing itself: from the first request of the door
to its last (as the local site saw them), against the least time the
published policy allows between them ((requests - 1) x window / quota; the
crawl adds its 2% margin, ``DIGEST_RATELIMIT_MARGIN``). The paces are the
issue's (one page per 0.5 s, one API call per 0.2 s, where a listing's work
of 30-60 ms weighs a tenth to a quarter), with the site's own quotas per
window (100 pages, 500 calls). With a quota under 51 the crawl, paced at
the policy plus 2%, can spend a whole window's budget itself, and the
whole-second ``t`` of ``RateLimit: r=0`` then pauses it up to a second each
time (the middleware's rule, kept): at 10 calls per 2 s that alone costs
the pace a fifth. The whole run's time against the floor of all the
requests the site counted is given as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

#: The faster paces: (requests, window seconds) per door; the site's own
#: policies are (100, 300) and (500, 300).
PACES = {"pages": (100, 50.0), "api": (500, 100.0)}


def figure(
    door: Literal["pages", "api"],
    days: int,
    workdir: Path,
    quota: int | None = None,
    window: float | None = None,
) -> dict[str, Any]:
    """The figure's fields (``Figure``'s) of a backfill of ``days`` days
    through ``door`` at its faster pace (or at ``quota`` requests per
    ``window`` seconds)."""
    from benchmarks.__main__ import crawl_listings, local_site, site_stats

    quota, window = quota or PACES[door][0], window or PACES[door][1]
    if door == "api":
        # robots.txt counts in the pages' bucket: a quota that never binds.
        site = local_site(days, quota=(10**6, window), api_quota=quota)
        arguments: tuple[str, ...] = ("-a", "source=api")
        counted, first, last = "api_calls", "first_call_at", "last_call_at"
    else:
        site = local_site(days, quota=(quota, window))
        arguments = ()
        counted, first, last = "pages", "first_page_at", "last_page_at"
    with site as url:
        # The project's settings but the base URL: the pace is the site's.
        run = crawl_listings(url, days, workdir, *arguments, "-s", "LOG_LEVEL=WARNING")
        served = site_stats(url)
    requests = int(served[counted])
    span = served[last] - served[first]
    span_floor = (requests - 1) * window / quota
    ratio = span / span_floor
    # As figures 5 and 5b count it: every request the site counted, robots.txt
    # among the pages.
    whole_floor = (requests + (served["robots"] if door == "pages" else 0)) * window / quota
    name = "the pages" if door == "pages" else "the API"
    unit = "pages" if door == "pages" else "calls"
    return {
        "name": f"5{'c' if door == 'pages' else 'd'}. pacing of {name} at {quota} {unit}"
        f"/{window:g} s, {days} days",
        "measured": f"first to last of {requests} {unit} {span:.1f} s vs floor {span_floor:.1f} s;"
        f" whole run {run.wall:.1f} s vs {whole_floor:.1f} s ({run.wall / whole_floor:.2f}x),"
        f" {served['too_many_requests']:.0f} x 429",
        "value": ratio,
        "goal": "<= 1.1x floor, 0 x 429",
        "met": ratio <= 1.1 and served["too_many_requests"] == 0,
        "details": {
            "door": door,
            "requests": requests,
            "first_to_last_seconds": span,
            "first_to_last_floor_seconds": span_floor,
            "seconds": run.wall,
            "floor_seconds": whole_floor,
            "whole_run_ratio": run.wall / whole_floor,
            "too_many_requests": served["too_many_requests"],
        },
    }
