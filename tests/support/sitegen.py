"""Listing pages in the site's real 2026 markup, for fixtures and local sites.

The markup is that of the real capture ``fixtures/sources/listing-2026-09-28-excerpts.html``
(hydration element, date header, card with organization chip, card with
author facepile), with long Tailwind class lists shortened where no
selector looks at them. The papers come from real data: the API capture of
2026-07-31 as it is, or the seed rendering (``seed.py``), whose papers lack
arXiv ids and author names: those are made up deterministically here.

Run ``python -m tests.support.sitegen`` to rewrite the generated fixtures.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from digest_crawler.dates import to_date
from digest_crawler.periods import Period
from digest_crawler.site.urls import PAGE_SIZE, api_path
from tests.support.seed import SeedPaper, seed_papers

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
API_CAPTURE = FIXTURES / "sources" / "api-daily-papers-2026-07-31.json"
API_CAPTURE_LIMIT25 = FIXTURES / "sources" / "api-daily-papers-limit25-2026-07-13.json"

Entry = dict[str, Any]


def attribute(value: str) -> str:
    """Escape an attribute value as Svelte's server renderer does (& " <)."""
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def text(value: str) -> str:
    return escape(value, quote=False)


def api_entries() -> list[Entry]:
    """The 30 real ``dailyPapers`` entries of 2026-07-31."""
    entries: list[Entry] = json.loads(API_CAPTURE.read_text(encoding="utf-8"))
    return entries


def api_entries_with_ai_fields() -> list[Entry]:
    """The real entries of 2026-07-13 (the day a paper entered the digest),
    some with ``ai_summary`` and ``ai_keywords``, from the limit-25 answer."""
    entries: list[Entry] = json.loads(API_CAPTURE_LIMIT25.read_text(encoding="utf-8"))
    return [e for e in entries if e["paper"]["submittedOnDailyAt"].startswith("2026-07-13")]


def _digest(*parts: object) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


@functools.cache
def _author_pool() -> list[str]:
    names = {author["name"] for entry in api_entries() for author in entry["paper"]["authors"]}
    return sorted(names)


def seed_entry(paper: SeedPaper, listing_date: dt.date, pool: Sequence[str]) -> Entry:
    """A 2026 ``dailyPapers`` entry for a seed paper (ids and names made up)."""
    seed = _digest(paper.title)
    published = (
        to_date(paper.shown_date, reference=listing_date)
        if paper.shown_date
        else listing_date - dt.timedelta(days=3)
    )
    # arXiv publishes before the digest lists: a seed paper of a later year
    # listed on an earlier day is published the day before.
    published = min(published, listing_date - dt.timedelta(days=1))
    arxiv_id = f"{published:%y%m}.{seed % 90000 + 10000:05d}"
    count = paper.author_count or (seed % 9 + 2)
    authors = [
        {"_id": f"{seed:08x}{n:04x}", "name": pool[(seed + 7 * n) % len(pool)], "hidden": False}
        for n in range(count)
    ]
    stamp = f"{published.isoformat()}T00:00:00.000Z"
    submitter = {"_id": f"{seed:024x}"[:24], "fullname": "AK", "name": "akhaliq", "type": "user"}
    organization = (
        {"_id": f"{seed:024x}"[:24], "name": paper.organization_id, "fullname": paper.organization}
        if paper.organization_id
        else None
    )
    body: Entry = {
        "id": arxiv_id,
        "authors": authors,
        "publishedAt": stamp,
        "submittedOnDailyAt": f"{listing_date.isoformat()}T00:00:00.000Z",
        "title": paper.title,
        "submittedOnDailyBy": submitter,
        "summary": paper.abstract,
        "upvotes": paper.upvotes,
        "discussionId": f"{seed:024x}"[:24],
    }
    if organization:
        body["organization"] = organization
    entry: Entry = {
        "paper": body,
        "publishedAt": f"{(listing_date - dt.timedelta(days=1)).isoformat()}T20:00:00.000Z",
        "title": paper.title,
        "summary": paper.abstract,
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{arxiv_id}.png",
        "numComments": seed % 4,
        "submittedBy": submitter,
        "isAuthorParticipating": False,
    }
    if organization:
        entry["organization"] = organization
    return entry


def seed_entries(listing_date: dt.date, papers: Sequence[SeedPaper] | None = None) -> list[Entry]:
    pool = _author_pool()
    return [seed_entry(p, listing_date, pool) for p in (papers or seed_papers())]


def props_json(
    entries: Sequence[Entry],
    listing_date: dt.date,
    prev_date: dt.date | None,
    period: Period | None = None,
) -> str:
    """The page's props; a week's or month's page (no real capture: assumed
    to name itself by its key, ``2026-W31``, with ``periodType``)."""
    props: dict[str, Any] = {
        "canSubmit": False,
        "dateString": period.key if period else listing_date.isoformat(),
        "dailyPapers": list(entries),
        "prevDate": prev_date.isoformat() if prev_date else None,
        "publisher": {
            "_id": "60f1abe7544c2adfd699860c",
            "fullname": "AK",
            "user": "akhaliq",
            "type": "user",
        },
        "periodType": period.kind if period else "day",
        "query": {},
        "isTrending": False,
    }
    return json.dumps(props, ensure_ascii=False, separators=(",", ":"))


def render_card(entry: Entry) -> str:
    paper = entry["paper"]
    arxiv_id = paper["id"]
    org = paper.get("organization") or entry.get("organization")
    submitter = (entry.get("submittedBy") or {}).get("name", "")
    if org:
        byline = (
            f'<a href="/{attribute(org["name"])}" class="inline-flex min-w-0 max-w-full items-center rounded-full border px-2 text-sm gap-1.5 mt-1">'
            f'<img src="https://cdn-avatars.huggingface.co/v1/production/uploads/{org["_id"]}/avatar.png" alt="{attribute(org["name"])}" class="size-3.5 rounded"><!----> '
            f'<span class="block min-w-0 truncate font-medium">{text(org.get("fullname") or org["name"])}</span></a><!---->'
        )
    else:
        faces = "".join(
            f'<li style="content-visibility:auto;" class="-mr-2 h-4 w-4 md:h-5 md:w-5 block flex-none rounded-full border-2 border-white" title="{attribute(a["name"])}"><!----></li>'
            for a in paper["authors"][:5]
        )
        byline = (
            f'<a class="flex" href="/papers/{arxiv_id}"><!----><ul class="flex items-center text-gray-600 flex-row-reverse text-sm">{faces}<!---->'
            f' <li class="text-xs hover:text-gray-700 order-first ml-3"><div class="flex truncate text-sm text-gray-350 sm:text-base">'
            f'<div class="mx-1">·</div> {len(paper["authors"])} authors</div><!----></li><!----></ul><!----></a><!---->'
        )
    stars = ""
    if paper.get("githubRepo") and paper.get("githubStars") is not None:
        stars = (
            f'<a class="flex translate-y-px items-center gap-1 rounded-md border px-0.5 py-0.5 text-xs text-gray-500" href="/papers/{arxiv_id}">'
            f'<svg viewBox="0 0 256 250" class="size-3 text-gray-800"><path d="" fill="currentColor"></path></svg><!----> <span>{paper["githubStars"]}</span></a><!---->'
        )
    comments = ""
    if entry.get("numComments"):
        comments = (
            f' <span class="inline-block "><span class="contents"><a class="flex translate-y-px items-center gap-1 rounded-md border px-0.5 py-0.5 text-xs text-blue-500" href="/papers/{arxiv_id}#community">'
            f'<svg viewBox="0 0 24 24"><path fill="none" stroke="currentColor" d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"></path></svg><!----> {entry["numComments"]}</a><!----></span> <!----></span>'
        )
    return (
        '<article class="relative flex flex-col overflow-hidden rounded-xl border">'
        f'<a class="shadow-alternate-sm peer relative block h-56 w-full cursor-pointer overflow-hidden rounded-xl bg-white md:h-64" href="/papers/{arxiv_id}">'
        f'<div class="relative flex h-full w-full items-center justify-center overflow-hidden "><!----> <!----> <img loading="lazy" src="{attribute(entry.get("thumbnail") or "")}" decoding="async" alt="" class="h-full w-full object-cover object-top"></div><!----></a><!---->'
        ' <div class="shadow-xs pointer-events-none absolute right-2 top-56 -mt-8 flex h-6 items-center gap-1 self-end whitespace-nowrap rounded-md border bg-white px-2 text-xs leading-none text-gray-700 sm:text-sm md:top-64">Submitted by '
        f'<div class="flex-none  "><img alt="" crossorigin="anonymous" loading="lazy" class="max-w-none size-2.5 rounded-full flex-none select-none " src="/avatars/placeholder.svg"> <!----></div><!----> {text(submitter)}</div><!----> <!---->'
        ' <div class="from-gray-50-to-white bg-linear-to-b -mt-2 flex px-6 pb-6 pt-8"><div class="flex w-full gap-6"><div class="flex flex-wrap items-center gap-2.5 pt-1  z-1 lg:sticky lg:top-8">'
        f'<a class="self-start" href="/login?next=%2Fpapers%2F{arxiv_id}"><!----><!----> <!----><div role="checkbox" class="shadow-alternate flex h-14 w-12 gap-1 rounded-xl flex-none cursor-pointer select-none flex-col items-center justify-center self-start border-gray-300 bg-white dark:bg-gray-850 ">'
        '<input type="checkbox" class="peer hidden" disabled=""> <svg viewBox="0 0 12 12" class="text-sm"><path fill="currentColor" d="M5.19 2.67a.94.94 0 0 1 1.62 0l3.31 5.72a.94.94 0 0 1-.82 1.4H2.7a.94.94 0 0 1-.82-1.4l3.31-5.7v-.02Z"></path></svg><!---->'
        f' <div class="leading-none">{paper.get("upvotes", 0)}</div></div><!----><!----></a><!----> <!----></div> <!----><!---->'
        ' <div class="w-full min-w-0"><h3 class="mb-1 text-lg/6 font-semibold hover:underline peer-hover:underline 2xl:text-[1.2rem]/6">'
        f'<a class="line-clamp-3 cursor-pointer text-balance" href="/papers/{arxiv_id}">{text(paper["title"])}</a></h3>'
        f' <div class="flex min-w-0 items-center justify-between gap-1 sm:gap-2">{byline} <div class="flex items-center gap-2">{stars}{comments}</div></div></div></div></div></article>'
    )


def render_listing(
    entries: Sequence[Entry],
    listing_date: dt.date,
    *,
    prev_date: dt.date | None = None,
    next_date: dt.date | None = None,
    props: str | None = None,
    hydration: bool = True,
    period: Period | None = None,
) -> str:
    """A full listing page; ``props`` overrides the JSON (e.g. cut short);
    ``period``: a week's or month's page."""
    props = props if props is not None else props_json(entries, listing_date, prev_date, period)
    hydrater = (
        f'<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="{attribute(props)}">'
        if hydration
        else '<div class="SVELTE_HYDRATER contents">'
    )
    prev_link = (
        f'<a href="/papers/date/{prev_date.isoformat()}" class="flex size-8 items-center justify-center bg-gray-200"><svg viewBox="0 0 10 10" class="h-2"><path d="M0 5L8 0.4L8 9.5Z" fill="currentColor"></path></svg><!----></a>'
        if prev_date
        else ""
    )
    next_link = (
        f'<a href="/papers/date/{next_date.isoformat()}" class="flex size-8 items-center justify-center bg-gray-200"><svg viewBox="0 0 10 10" class="h-2 rotate-180"><path d="M0 5L8 0.4L8 9.5Z" fill="currentColor"></path></svg><!----></a>'
        if next_date
        else '<a class="flex size-8 items-center justify-center bg-gray-200 pointer-events-none opacity-50"><svg viewBox="0 0 10 10" class="h-2 rotate-180"><path d="M0 5L8 0.4L8 9.5Z" fill="currentColor"></path></svg><!----></a>'
    )
    cards = "<!---->".join(render_card(entry) for entry in entries)
    return (
        '<!DOCTYPE html><html class=""><head>\n\t\t<meta charset="utf-8">\n'
        '\t\t<meta name="description" content="Your daily dose of AI research from AK">\n'
        '\t\t<meta property="og:title" content="Daily Papers - Hugging Face">\n'
        "\t\t<title>Daily Papers - Hugging Face</title>\n"
        '</head><body class="flex flex-col min-h-dvh bg-white dark:bg-gray-950 text-black DailyPapersPage">\n'
        '<main class="flex flex-1 flex-col"><!--[0--><div class="SVELTE_HYDRATER contents" data-target="DailyPapersBannerSubscribe" data-props="{&quot;isLoggedIn&quot;:false}">'
        '<div class="rounded-md bg-blue-500/20 px-1 text-xs font-semibold uppercase text-blue-600">new</div> <p class="inline sm:hidden">Get trending papers in your email inbox!</p> '
        '<a class="btn px-2! text-sm leading-none" href="/login?next=%2Fpapers">Subscribe</a></div><!--]--> '
        f"{hydrater}"
        '<section class="container relative mb-20 mt-8 md:mt-14"><div class="mb-8 grid grid-cols-6 items-start md:mb-12 md:grid-cols-12 md:gap-x-4">'
        '<div class="order-1 col-span-5"><div class="flex items-center gap-3"><h1 class="text-2xl font-bold md:text-3xl">Daily Papers</h1> <!----></div>'
        ' <h2 class="whitespace-nowrap text-gray-500 xl:text-lg">by<a href="/akhaliq"><img alt="" class="mx-1.5 inline h-4" src="/front/assets/papers-by.png"><span class="underline">AK</span></a> and the research community</h2></div>'
        ' <div class="order-2 col-span-6 mt-3 flex w-full justify-center"><div class="flex w-full items-center justify-between w-full xl:w-auto">'
        '<div class="flex items-center"><ul class="flex gap-1 text-sm  "><li><button class="flex items-center whitespace-nowrap rounded-lg px-2  bg-black text-white">Daily <!----></button></li>'
        '<li><button class="flex items-center whitespace-nowrap rounded-lg px-2  text-gray-500">Weekly <!----></button></li><li><button class="flex items-center whitespace-nowrap rounded-lg px-2  text-gray-500">Monthly <!----></button></li></ul><!----></div>'
        f' <div class="ml-6 flex items-center overflow-hidden rounded-lg bg-gray-100 dark:bg-gray-800">{prev_link}'
        f' <div class="w-24 whitespace-nowrap text-center text-sm font-semibold text-gray-900 dark:text-gray-100">{listing_date:%b} {listing_date.day}</div> '
        f"{next_link}<!----></div></div><!----></div></div>"
        f' <div class="relative grid gap-5 *:[content-visibility:auto] grid-cols-1 lg:grid-cols-2 xl:grid-cols-3"><!----><!---->{cards}<!----> <!---->'
        "</div><!----></section></div><!----></main>\n</body></html>\n"
    )


# -- the committed fixtures ---------------------------------------------------

D = dt.date


def hostile_entries() -> list[Entry]:
    """Five seed papers whose texts were edited to carry &, <, quotes, LaTeX, non-ASCII."""
    entries = seed_entries(D(2026, 3, 10), seed_papers()[:5])
    edits = [
        (
            "Q&A <Bench>: Are \"Quoted\" & 'Apostrophe' Answers <b>Tags</b>?",
            "We write &amp; literally, keep <script>alert(1)</script> as text, and say \"hi\" & 'bye'.",
        ),
        (
            r"$\mathcal{O}(n^2)$ Attention with $\alpha < \beta$ & $x_{i}^{2}$",
            r"We prove $\sum_{i=1}^{n} x_i \leq \sqrt{n}\,\|x\|_2$ for \textbf{all} $x \in \mathbb{R}^n$.",
        ),
        (
            "InternW0-Δ: Ünïcödé Wörld Models — 中文 テスト 🚀",
            "Naïve café résumé: Ελληνικά, русский, עברית, 日本語 and emoji 🤗👍🏽 all survive.",
        ),
        ("Tabs\tand\n\nnewlines   collapse", "Line one.\n\nLine   two.\t(tabs)"),
        (
            "Non-breaking\u00a0space and zero\u200bwidth",
            "Keeps the zero\u200bwidth joiner as text.",
        ),
    ]
    for entry, (title, summary) in zip(entries, edits, strict=True):
        entry["paper"]["title"] = entry["title"] = title
        entry["paper"]["summary"] = entry["summary"] = summary
    entries[2]["paper"]["organization"] = entries[2]["organization"] = {
        "_id": "aaaaaaaaaaaaaaaaaaaaaaaa",
        "name": "AT-T-Labs",
        "fullname": 'AT&T <Labs> "Research"',
    }
    return entries


def build() -> dict[str, str]:
    """File name -> page text of every generated fixture."""
    seed_day, api_day = D(2026, 3, 9), D(2026, 7, 31)
    papers = seed_papers()
    api = api_entries()
    broken = props_json(seed_entries(D(2026, 3, 12), papers[20:40]), D(2026, 3, 12), D(2026, 3, 11))
    return {
        "listing-2026-03-09.html": render_listing(
            seed_entries(seed_day), seed_day, prev_date=D(2026, 3, 6), next_date=D(2026, 3, 10)
        ),
        "listing-2026-03-10-hostile-text.html": render_listing(
            hostile_entries(), D(2026, 3, 10), prev_date=seed_day, next_date=D(2026, 3, 11)
        ),
        "listing-2026-03-11-no-hydration.html": render_listing(
            seed_entries(D(2026, 3, 11), papers[:20]),
            D(2026, 3, 11),
            prev_date=D(2026, 3, 10),
            next_date=D(2026, 3, 12),
            hydration=False,
        ),
        "listing-2026-03-12-broken-json.html": render_listing(
            seed_entries(D(2026, 3, 12), papers[20:40]),
            D(2026, 3, 12),
            prev_date=D(2026, 3, 11),
            props=broken[: len(broken) // 2],
        ),
        "listing-2026-07-31.html": render_listing(api, api_day, prev_date=D(2026, 7, 30)),
        "listing-2026-07-13.html": render_listing(
            api_entries_with_ai_fields(), D(2026, 7, 13), prev_date=D(2026, 7, 10)
        ),
    }


def main() -> None:
    for name, page in build().items():
        (FIXTURES / name).write_text(page, encoding="utf-8")
        print(f"wrote fixtures/{name} ({len(page):,} chars)")


def api_answers(
    period: Period, entries: Sequence[Entry], limit: int = PAGE_SIZE
) -> dict[str, bytes]:
    """The API's answers for ``period``: path -> JSON body, ``limit`` entries
    a page (a full last page is followed by an empty one, as the API pages)."""
    answers = {}
    for page in range(len(entries) // limit + 1):
        chunk = list(entries[page * limit : (page + 1) * limit])
        answers[api_path(period, page)] = json.dumps(chunk, ensure_ascii=False).encode()
    return answers


def ranked_by_upvotes(entries: Sequence[Entry]) -> list[Entry]:
    """A week's or month's list: no capture exists, so the order is assumed
    (most upvoted first, ties in day order) — a rank unlike the day's."""
    return sorted(entries, key=lambda entry: -int(entry["paper"]["upvotes"]))


def many_entries(day: dt.date, count: int) -> list[Entry]:
    """``count`` distinct entries listed on ``day`` (seed papers, again and
    again, each time under another arXiv id), for a list longer than a page."""
    papers = seed_papers()
    entries = []
    for n in range(count):
        entry = seed_entries(day, [papers[n % len(papers)]])[0]
        arxiv_id = f"{day:%y%m}.{n + 1:05d}"
        entry["paper"]["id"] = arxiv_id
        entry["paper"]["title"] = entry["title"] = f"{entry['title']} ({n + 1})"
        entry["thumbnail"] = entry["thumbnail"].rsplit("/", 1)[0] + f"/{arxiv_id}.png"
        entries.append(entry)
    return entries


def day_page(day: dt.date, count: int = 6, offset: int = 0, **changes: Any) -> str:
    """A listing page for ``day`` with ``count`` seed papers starting at
    ``offset`` (wrapping round the 55), e.g. for a local site of many days."""
    papers = seed_papers()
    chosen = [papers[(offset + n) % len(papers)] for n in range(count)]
    entries = seed_entries(day, chosen)
    for entry in entries:
        entry["paper"].update(changes)
    return render_listing(entries, day, prev_date=day - dt.timedelta(days=1))


if __name__ == "__main__":
    main()


def paper_answer(entry: Entry, models: int, datasets: int, spaces: int, **changes: Any) -> bytes:
    """The Hub's answer for one paper (``/api/papers/{id}``): the real
    entry's ``paper`` object, with the numbers of models, datasets and
    Spaces that cite it under the names ``huggingface_hub``'s
    ``PaperInfo`` reads (see fixtures/README.md: no real answer of this
    call is saved in a public repository), and ``changes``."""
    answer = {
        **entry["paper"],
        "numTotalModels": models,
        "numTotalDatasets": datasets,
        "numTotalSpaces": spaces,
        **changes,
    }
    return json.dumps(answer).encode()
