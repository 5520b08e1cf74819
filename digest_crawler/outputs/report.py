"""The trend report: one self-contained HTML file (``scrapy report``).

Charts are drawn by matplotlib (the ``report`` extra) into SVG, inlined in
the page with glyphs as paths: the file fetches nothing (no script, font,
stylesheet or image from anywhere; its Content-Security-Policy forbids it
too) and opens offline. Beside each chart, a table of the same numbers for
screen readers and copying. The same archive gives the same bytes: the SVG
has no date and fixed ids.

It reads at any span, a week or the whole digest: counts by day, week or
month (``storage.trends.tally``) in a table of a few rows; curves only for
papers read more than once, labelled with their titles; a sentence instead
of a chart where there is too little to draw; no date broken across lines.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from digest_crawler.outputs.controls import CONTROLS
from digest_crawler.storage.trends import KEYWORD_PAPERS, Tally, TopPaper, Trends, tally

WIDTH, HEIGHT = 9.6, 3.2  # inches (an SVG inch is 72 pt, 96 px in the page): the column's width
#: A bar chart's height: a margin and a bar's height per name (inches).
BAR_CHART = (0.8, 0.25)
_STYLE: dict[Any, Any] = {
    "svg.fonttype": "path",  # glyphs as paths: no font to fetch or lack
    "svg.hashsalt": "digest_crawler",  # the same ids in every run
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # Text is text: a name like "$x^$" is not mathtext (nor TeX) to parse.
    "text.parse_math": False,
    "text.usetex": False,
}
#: Longest label a chart draws of a name (the table beside it has it whole).
LABEL_CHARACTERS = 40
#: The most days after listing the curves' table has a column each for.
READING_COLUMNS = 8
BLUE, PALE_BLUE, GREEN, RED, PALE_RED = "#4c72b0", "#a9bddd", "#55a868", "#c44e52", "#eab3b4"
#: The curves' colours: Okabe and Ito's, told apart with any colour vision.
CURVE_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")
_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_DATE = re.compile(r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b")
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem;
  color: #222; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; }
h3 { font-size: 1rem; margin-top: 1.5rem; }
figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.9rem; }
caption { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
th, td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: left;
  vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.d, th.d, span.d { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.id { white-space: nowrap; color: #555; font-size: 0.85rem; }
.wide { overflow-x: auto; margin: 0.5rem 0; } p.note { color: #555; font-size: 0.9rem; }
.empty { font-size: 1.1rem; padding: 1rem; background: #f4f4f4; }
"""


def build_report(trends: Trends, subject: str, generated: str) -> str:
    """The report's HTML. ``subject`` says which papers (span, filters);
    ``generated`` is what the footer says made it."""
    title = f"Daily Papers trends: {subject}"
    if not trends.per_day:
        body = f'<p class="empty" id="empty">No papers in this span ({html.escape(subject)}).</p>'
    else:
        # Every text artist (labels, ticks drawn at save time, legends) is
        # made and drawn under the report's style.
        with matplotlib.rc_context(_STYLE), warnings.catch_warnings():
            # A name in a script the bundled font lacks draws as boxes; the
            # table beside the chart has it: no warning on standard error.
            warnings.filterwarnings("ignore", "Glyph .* missing from", UserWarning)
            body = "\n".join(
                (
                    _summary(trends),
                    _over_time(trends),
                    _top_papers(trends),
                    _adopted(trends),
                    _organizations(trends),
                    _keywords(trends),
                )
            )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{_prose(title)}</h1>
{body}
<footer><p><small>{html.escape(generated)}</small></p></footer>
</body>
</html>
"""


def _summary(trends: Trends) -> str:
    text = (
        f" {_plural(trends.papers, 'paper')} on {_plural(len(trends.per_day), 'listing day', True)}"
        f" from {trends.first} to {trends.last}; the most upvoted has"
        f" {_plural(trends.top[0].upvotes, 'upvote', True)}."
    )
    return f'<p id="summary"><span id="paper-count">{trends.papers:,}</span>{_prose(text)}</p>'


# -- papers over time ---------------------------------------------------------------


def _over_time(trends: Trends) -> str:
    """Papers by listing day, week or month: a bar each, and a row each (a
    year's row of months for a span of years)."""
    kind, counts = tally(trends)
    heading = {"day": "Papers per listing day", "week": "Papers per week"}.get(
        kind, "Papers per month"
    )
    explanation = "Each paper counts on the day it was first listed"
    if kind != "day":
        explanation += f", in that day's {kind} (each day's papers: scrapy export)"
    if kind == "month":
        table = _month_grid(counts)
    elif kind == "week":
        table = _table(
            "over-time",
            heading,
            (("week", "d"), ("days", "d"), ("listing days", "n"), ("papers", "n")),
            (
                (c.period.key, _days_in_span(c, trends), str(c.listing_days), f"{c.papers:,}")
                for c in counts
            ),
        )
    else:
        table = _table(
            "over-time",
            heading,
            (("listing day", "d"), ("papers", "n")),
            ((str(c.period.start), f"{c.papers:,}") for c in counts),
        )
    return _section(
        "over-time",
        heading,
        f"{explanation}.",
        _svg(_period_bars(kind, counts)),
        table + _parts_note(counts, trends),
    )


def _period_bars(kind: str, counts: list[Tally]) -> Figure:
    """A bar a period, paler where the span holds only part of it; the
    periods are consecutive (or listing days): at positions 0, 1, 2, ..."""
    figure, axes = _figure()
    positions = range(len(counts))
    parts = [not count.whole for count in counts]
    axes.bar(
        positions,
        [count.papers for count in counts],
        width=0.8,
        color=[PALE_BLUE if part else BLUE for part in parts],
    )
    axes.set_xlim(-0.6, len(counts) - 0.4)
    axes.set_ylabel("papers")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ticks = [(n, _tick(kind, count, len(counts), n == 0)) for n, count in enumerate(counts)]
    axes.set_xticks([n for n, text in ticks if text], [text for _, text in ticks if text])
    if any(parts):
        axes.legend(
            handles=[Patch(color=PALE_BLUE, label=f"part of a {kind}: the span's first or last")],
            frameon=False,
            loc="lower left",
            bbox_to_anchor=(0, 1),
        )
    return figure


def _tick(kind: str, count: Tally, periods: int, first: bool) -> str:
    r"""A bar's label, or none: a listing day's weekday and date, a week's
    Monday, a month's name (January's by its year, the first bar's with its
    year; fewer names the more months).

    >>> from digest_crawler.periods import Period
    >>> months = [Tally(Period("month", dt.date(2025, m, 1)), 1, 1, True) for m in (11, 12)]
    >>> months += [Tally(Period("month", dt.date(2026, m, 1)), 1, 1, True) for m in (1, 2, 7)]
    >>> [_tick("month", month, 30, n == 0) for n, month in enumerate(months)]
    ['Nov\n2025', '', '2026', '', 'Jul']
    """
    start = count.period.start
    if kind == "day":
        return f"{_DAY_NAMES[start.weekday()]}\n{_day_month(start)}"
    if kind == "week":
        return _day_month(start)
    name = _MONTH_NAMES[start.month - 1]
    if start.month == 1:
        return str(start.year)
    if first:
        return f"{name}\n{start.year}"
    every = 1 if periods <= 12 else 3 if periods <= 24 else 6 if periods <= 48 else 12
    return name if (start.month - 1) % every == 0 else ""


def _month_grid(counts: list[Tally]) -> str:
    """A year a row, a month a column, and the year's total."""
    years: dict[int, list[str]] = {}
    totals: dict[int, int] = {}
    for count in counts:
        year, month = count.period.start.year, count.period.start.month
        years.setdefault(year, [""] * 12)[month - 1] = f"{count.papers:,}"
        totals[year] = totals.get(year, 0) + count.papers
    return _table(
        "over-time",
        "Papers per month",
        (("year", "d"), *((name, "n") for name in _MONTH_NAMES), ("total", "n")),
        ((str(year), *months, f"{totals[year]:,}") for year, months in years.items()),
    )


def _days_in_span(count: Tally, trends: Trends) -> str:
    assert trends.first is not None and trends.last is not None
    first, last = max(count.period.start, trends.first), min(count.period.end, trends.last)
    return f"{_day_month(first)} to {_day_month(last)}"


def _parts_note(counts: list[Tally], trends: Trends) -> str:
    """Which bars are paler: the span's first or last week or month, cut short."""
    said = []
    if not counts[0].whole:
        said.append(f"{_period_name(counts[0])}, counted from {trends.first}")
    if not counts[-1].whole and (len(counts) > 1 or not said):
        said.append(f"{_period_name(counts[-1])}, counted up to {trends.last}")
    if not said:
        return ""
    note = f"Paler: {' and '.join(said)} (the span's ends)."
    return f'<p class="note">{_prose(note)}</p>'


def _period_name(count: Tally) -> str:
    """A week or month as a sentence names it: the week of 27 Jul 2026, Jul 2026."""
    start = count.period.start
    if count.period.kind == "week":
        return f"the week of {_day_month(start)} {start.year}"
    return f"{_MONTH_NAMES[start.month - 1]} {start.year}"


def _day_month(day: dt.date) -> str:
    return f"{day.day} {_MONTH_NAMES[day.month - 1]}"


# -- the top papers -----------------------------------------------------------------


def _top_papers(trends: Trends) -> str:
    columns = (
        ("#", "n"),
        ("paper", "t"),
        ("arXiv", "id"),
        ("organization", "t"),
        ("listed", "d"),
        ("upvotes", "n"),
    )
    rows = [
        (
            str(number),
            f'<a href="{html.escape(p.url)}" rel="noreferrer">{html.escape(p.title)}</a>',
            html.escape(p.arxiv_id),
            html.escape(p.organization or ""),
            str(p.listing_date),
            f"{p.upvotes:,}",
        )
        for number, p in enumerate(trends.top, 1)
    ]
    table = _table("top-papers", "The most upvoted papers", columns, rows, escaped=True)
    return _section(
        "top-papers",
        "The most upvoted papers",
        "By their upvotes as the last crawl that read them saw them.",
        "",
        table + _curves(trends),
    )


def _curves(trends: Trends) -> str:
    """Upvotes over the days after listing, for the most upvoted papers the
    crawls read more than once; a sentence instead where none was."""
    heading = '<h3 id="curves-heading">Upvotes over the days after listing</h3>'
    if not trends.curves:
        return (
            f'{heading}\n<p id="curves-note">No paper of this span was read more than once, so'
            " there is no curve of upvotes over time. A backfill reads each day once; the daily"
            " crawl reads a day again on the days after it (its refresh schedule).</p>"
        )
    figure, axes = _figure()
    ends = []
    for paper, colour in zip(trends.curves, CURVE_COLOURS, strict=False):
        start = dt.datetime.combine(paper.listing_date, dt.time(), dt.UTC)
        days = [(moment - start).total_seconds() / 86_400 for moment, _ in paper.curve]
        upvotes = [upvotes for _, upvotes in paper.curve]
        axes.plot(days, upvotes, color=colour, marker="o", markersize=3, linewidth=1.5)
        ends.append((days[-1], upvotes[-1], label(paper.title), colour))
    axes.set_xlabel("days after the listing day")
    axes.set_ylabel("upvotes")
    axes.set_xlim(left=0)
    axes.set_ylim(bottom=0, top=max(end[1] for end in ends) * 1.08 + 1)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    _label_ends(axes, ends)
    count = len(trends.curves)
    which = "most upvoted paper" if count == 1 else f"{count} most upvoted papers"
    explanation = (
        f"The {which} of the span that the crawls read more than once: a dot for each read"
        " that found a new count."
    )
    once = [number for number, p in enumerate(trends.top, 1) if len(p.curve) < 2]
    again = [number for number, p in enumerate(trends.top, 1) if len(p.curve) > 1]
    if not again:
        explanation += " None of the papers above was read more than once: no curve."
    elif len(once) > len(again):
        explanation += f" The papers above but {_numbers(again)} were read only once: no curve."
    elif once:
        explanation += (
            f" {_numbers(once)} of the papers above {'was' if len(once) == 1 else 'were'}"
            " read only once: no curve."
        )
    return f"""{heading}
<p id="curves-note">{_prose(explanation)}</p>
<figure>{_hidden(_svg(figure))}</figure>
{_readings(trends.curves)}"""


def _readings(curves: list[TopPaper]) -> str:
    """The curves' numbers: a column for each day after listing a read found
    a new count on (the last count of the day), or the reads in words when
    there are too many such days for columns."""
    by_day = [
        {(moment.date() - paper.listing_date).days: upvotes for moment, upvotes in paper.curve}
        for paper in curves
    ]
    days = sorted({day for seen in by_day for day in seen})
    titles = [html.escape(paper.title) for paper in curves]
    if len(days) <= READING_COLUMNS:
        return _table(
            "curves",
            "Upvotes over the days after listing",
            (("paper", "t"), *((f"day {day}", "n") for day in days)),
            (
                (title, *(f"{seen[day]:,}" if day in seen else "" for day in days))
                for title, seen in zip(titles, by_day, strict=True)
            ),
            escaped=True,
        )
    return _table(
        "curves",
        "Upvotes over the days after listing",
        (("paper", "t"), ("upvotes, by day after listing", "t")),
        (
            (title, ", ".join(f"day {day}: {upvotes:,}" for day, upvotes in seen.items()))
            for title, seen in zip(titles, by_day, strict=True)
        ),
        escaped=True,
    )


def _label_ends(axes: Any, ends: list[tuple[float, int, str, str]]) -> None:
    """Each curve's title at the right of the chart, at its last value's
    height, moved apart where two would overlap, a faint line from its end."""
    bottom, top = axes.get_ylim()
    gap = (top - bottom) * 12 / (HEIGHT * 72 * 0.75)  # a 9 pt line and a little, in data units
    order = sorted(range(len(ends)), key=lambda i: ends[i][1])
    heights = [float(ends[i][1]) for i in order]
    for k in range(1, len(heights)):
        heights[k] = max(heights[k], heights[k - 1] + gap)
    for k in range(len(heights) - 1, -1, -1):
        ceiling = top if k == len(heights) - 1 else heights[k + 1] - gap
        heights[k] = min(heights[k], ceiling)
    for k, i in enumerate(order):
        day, upvotes, text, colour = ends[i]
        axes.annotate(
            text,
            xy=(day, upvotes),
            xytext=(1.02, heights[k]),
            textcoords=("axes fraction", "data"),
            color=colour,
            va="center",
            arrowprops={"arrowstyle": "-", "color": colour, "alpha": 0.35, "linewidth": 0.8},
            annotation_clip=False,
        )


def _numbers(numbers: list[int]) -> str:
    """Table row numbers as a reader says them: "#2", "#2 and #5", "#2, #5 and #7"."""
    said = [f"#{n}" for n in numbers]
    return said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"


# -- organizations and keywords -----------------------------------------------------


def _adopted(trends: Trends) -> str:
    """The most adopted papers: what cites them now, and how that grew since
    they were first asked (the paler part of each bar)."""
    if not trends.adopted:
        return _note(
            "adoption",
            "The most adopted papers",
            "No paper of this span has been asked what cites it on the Hub yet"
            " (a crawl asks with DIGEST_ADOPTION on, the default).",
        )
    figure, axes = _figure(len(trends.adopted))
    shown = list(reversed(trends.adopted))
    # At positions of their own: two titles that look alike are two bars.
    positions = range(len(shown))
    firsts = [min(p.first_total, p.total) for p in shown]
    axes.barh(positions, firsts, color=PALE_BLUE, label="when first asked")
    axes.barh(
        positions,
        [p.total - first for p, first in zip(shown, firsts, strict=True)],
        left=firsts,
        color=BLUE,
        label="since",
    )
    axes.set_yticks(positions, [label(p.title) for p in shown])
    axes.legend(loc="lower right", frameon=False)
    axes.set_xlabel("models, datasets and Spaces that cite it")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))

    def grew(p: Any) -> str:
        if p.first_read is None:
            return ""
        return f"{p.first_total:,} on {p.first_read:%Y-%m-%d}"

    rows = [
        (
            str(number),
            f'<a href="{html.escape(p.url)}" rel="noreferrer">{html.escape(p.title)}</a>',
            html.escape(p.arxiv_id),
            _count(p.linked_models),
            _count(p.linked_datasets),
            _count(p.linked_spaces),
            html.escape(grew(p)),
        )
        for number, p in enumerate(trends.adopted, 1)
    ]
    columns = (
        ("#", "n"),
        ("paper", "t"),
        ("arXiv", "id"),
        ("models", "n"),
        ("datasets", "n"),
        ("Spaces", "n"),
        ("first asked", "d"),
    )
    return _section(
        "adoption",
        "The most adopted papers",
        "By the models, datasets and Spaces on the Hub that cite each, as last asked;"
        " the paler part of a bar is what cited it when first asked.",
        _svg(figure),
        _table("adoption", "The most adopted papers", columns, rows, escaped=True),
    )


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _organizations(trends: Trends) -> str:
    if not trends.organizations:
        return _note(
            "organizations", "Organizations", "No paper of this span names an organization."
        )
    figure, axes = _figure(len(trends.organizations))
    shown = list(reversed(trends.organizations))
    _bars(axes, [o.name for o in shown], [o.papers for o in shown], GREEN)
    axes.set_xlabel("papers")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    rows = [(o.name, f"{o.papers:,}", f"{o.upvotes:,}") for o in trends.organizations]
    return _section(
        "organizations",
        "Organizations with the most papers",
        "By papers, then upvotes (the papers' current upvotes summed).",
        _svg(figure),
        _table(
            "organizations",
            "Organizations with the most papers",
            (("organization", "t"), ("papers", "n"), ("upvotes", "n")),
            rows,
        ),
    )


def _keywords(trends: Trends) -> str:
    heading = "Keywords that rose the most"
    if trends.keywords is None:
        return _note("keywords", heading, "No paper of this span has keywords.")
    if trends.halves is None or trends.keyword_papers is None:
        return _note("keywords", heading, "A span of one day has no halves to compare.")
    (first, _), (middle, last) = trends.halves
    before_of, after_of = trends.keyword_papers
    halves = (
        f"the first half of the span ({first} to {middle - dt.timedelta(days=1)},"
        f" {_plural(before_of, 'paper', True)} with keywords) and the second ({middle} to"
        f" {last}, {after_of:,})"
    )
    if min(before_of, after_of) < KEYWORD_PAPERS:
        return _note(
            "keywords",
            heading,
            f"Too little data to tell: {halves}; each half needs {KEYWORD_PAPERS} papers"
            " with keywords.",
        )
    if not trends.keywords:
        return _note(
            "keywords",
            heading,
            f"No keyword's share of the papers rose by more than chance would between {halves}.",
        )
    how = (
        f"The share of the papers with keywords that have each keyword, in {halves}: the"
        " keywords whose share rose the most, each by more than chance would."
    )
    rows = [
        (k.keyword, f"{100 * k.shares[0]:.1f}%", f"{100 * k.shares[1]:.1f}%", f"+{k.rise:.1f}")
        for k in trends.keywords
    ]
    table = _table(
        "keywords",
        heading,
        (("keyword", "t"), ("first half", "n"), ("second half", "n"), ("rise, points", "n")),
        rows,
    )
    figure, axes = _figure(len(rows) * 1.5)  # two bars a keyword
    shown = list(reversed(trends.keywords))
    positions = range(len(shown))
    for offset, half, colour, name in ((0.2, 0, PALE_RED, "first"), (-0.2, 1, RED, "second")):
        axes.barh(
            [p + offset for p in positions],
            [100 * k.shares[half] for k in shown],
            0.4,
            color=colour,
            label=f"{name} half",
        )
    axes.set_yticks(positions, [label(k.keyword) for k in shown])
    axes.set_xlabel("% of the papers with keywords")
    axes.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1), ncols=2)
    return _section("keywords", heading, how, _svg(figure), table)


# -- the parts --------------------------------------------------------------------


def _figure(bars: float | None = None) -> tuple[Figure, matplotlib.axes.Axes]:
    """A chart's figure; as high as its ``bars`` need, for a bar chart."""
    height = HEIGHT if bars is None else BAR_CHART[0] + BAR_CHART[1] * bars
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(WIDTH, height), layout="constrained")
        axes = figure.add_subplot()
    return figure, axes


def _bars(axes: matplotlib.axes.Axes, names: list[str], values: list[int], color: str) -> None:
    """Horizontal bars, one per name, labelled with the name: at positions
    of their own, so that two names that look alike are still two bars."""
    positions = range(len(names))
    axes.barh(positions, values, color=color)
    axes.set_yticks(positions, [label(name) for name in names])


def label(name: str) -> str:
    """A name as a chart draws it: one line, without controls or bidi
    marks, at most ``LABEL_CHARACTERS`` long.

    >>> label("  Lab\\x1b[31m\\u202e  of\\nthings "), label("x" * 50)[-3:]
    ('Lab [31m of things', 'xx…')
    >>> label("DualMap: Enabling Both Cache Affinity and Load Balancing")
    'DualMap: Enabling Both Cache Affinity…'
    """
    text = " ".join(CONTROLS.sub(" ", name).split())
    if len(text) > LABEL_CHARACTERS:
        cut = text[: LABEL_CHARACTERS - 1]
        # At a word's end where one is near: "Enabling Both…", not "Enabling Bo…".
        if " " in cut[-12:]:
            cut = cut[: cut.rindex(" ")].rstrip(" :,;-\u2013")
        text = cut + "…"
    return text


def _plural(count: int, noun: str, with_count: bool = False) -> str:
    """``noun`` for ``count`` of it (with the count first if asked).

    >>> _plural(1, "listing day", True), _plural(1_300, "listing day", True)
    ('1 listing day', '1,300 listing days')
    """
    word = noun if count == 1 else f"{noun}s"
    return f"{count:,} {word}" if with_count else word


def _prose(text: str) -> str:
    """``text`` as HTML, its dates never broken across lines (at their hyphens).

    >>> _prose("From 2026-07-01 to <b>")
    'From <span class="d">2026-07-01</span> to &lt;b&gt;'
    """
    return _DATE.sub(r'<span class="d">\g<0></span>', html.escape(text))


def _svg(figure: Figure) -> str:
    """The figure as an SVG element to inline: no XML prolog or DOCTYPE
    (whose DTD address no page should name), no RDF metadata, no date."""
    buffer = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)


def _hidden(svg: str) -> str:
    """A chart hidden from screen readers: the table beside it says the same."""
    return re.sub(r"^<svg ", '<svg aria-hidden="true" focusable="false" ', svg)


def _table(
    anchor: str,
    caption: str,
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[str]],
    escaped: bool = False,
) -> str:
    """A table; each column a (heading, class) pair: ``n`` numbers, ``d``
    dates (never wrapped), ``id`` identifiers, ``t`` text."""
    head = "".join(
        f'<th scope="col" class={kind}>{html.escape(name)}</th>' for name, kind in columns
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class={kind}>{value if escaped else html.escape(value)}</td>"
            for (_, kind), value in zip(columns, row, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    # In a box of its own that scrolls sideways where the window is narrower.
    return f"""<div class="wide"><table id="{anchor}"><caption>{html.escape(caption)}</caption>
<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"""


def _section(anchor: str, heading: str, explanation: str, svg: str, rest: str) -> str:
    """A heading, what it shows, a chart (hidden from screen readers) and the rest."""
    figure = f"<figure>{_hidden(svg)}</figure>\n" if svg else ""
    return f"""<section aria-labelledby="{anchor}-heading">
<h2 id="{anchor}-heading">{html.escape(heading)}</h2>
<p>{_prose(explanation)}</p>
{figure}{rest}
</section>"""


def _note(anchor: str, heading: str, text: str) -> str:
    return f"""<section aria-labelledby="{anchor}-heading">
<h2 id="{anchor}-heading">{html.escape(heading)}</h2>
<p id="{anchor}">{_prose(text)}</p>
</section>"""
