"""The trend report: one self-contained HTML file (``scrapy report``).

Charts are drawn by matplotlib (the ``report`` extra) into SVG, inlined in
the page with glyphs as paths: the file fetches nothing (no script, font,
stylesheet or image from anywhere; its Content-Security-Policy forbids it
too) and opens offline. Beside each chart, a table of the same numbers for
screen readers and copying. The same archive gives the same bytes: the SVG
has no date and fixed ids.
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
from matplotlib.ticker import MaxNLocator

from digest_crawler.outputs.controls import CONTROLS
from digest_crawler.storage.trends import Trends

WIDTH, HEIGHT = 8.0, 3.2  # inches, at 100 dpi in the page
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

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; }
figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
details { margin: 0.5rem 0; } .empty { font-size: 1.1rem; padding: 1rem; background: #f4f4f4; }
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
                    _per_day(trends),
                    _top_papers(trends),
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
<h1>{html.escape(title)}</h1>
{body}
<footer><p><small>{html.escape(generated)}</small></p></footer>
</body>
</html>
"""


def _summary(trends: Trends) -> str:
    upvotes = sum(p.upvotes for p in trends.top)
    return (
        f'<p id="summary"><span id="paper-count">{trends.papers}</span> papers on'
        f" {len(trends.per_day)} listing days from {trends.first} to {trends.last}; the most"
        f" upvoted has {trends.top[0].upvotes} upvotes (the top {len(trends.top)}:"
        f" {upvotes}).</p>"
    )


def _per_day(trends: Trends) -> str:
    figure, axes = _figure()
    days = [day for day, _ in trends.per_day]
    axes.bar(days, [count for _, count in trends.per_day], color="#4c72b0")  # type: ignore[arg-type]
    axes.set_ylabel("papers")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.autofmt_xdate()
    rows = [(str(day), str(count)) for day, count in trends.per_day]
    return _section(
        "per-day",
        "Papers per listing day",
        "Each paper counts on the day it was first listed.",
        _svg(figure),
        ("listing day", "papers"),
        rows,
    )


def _top_papers(trends: Trends) -> str:
    figure, axes = _figure()
    for paper in trends.top:
        start = dt.datetime.combine(paper.listing_date, dt.time(), dt.UTC)
        days = [(moment - start).total_seconds() / 86_400 for moment, _ in paper.curve]
        axes.plot(
            days,
            [upvotes for _, upvotes in paper.curve],
            marker="o",
            markersize=3,
            drawstyle="steps-post",
            label=label(paper.arxiv_id),
        )
    axes.set_xlabel("days after the listing day")
    axes.set_ylabel("upvotes")
    axes.legend(fontsize=7, ncols=2, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    rows = [
        (
            str(number),
            f'<a href="{html.escape(p.url)}" rel="noreferrer">{html.escape(p.arxiv_id)}</a>',
            html.escape(p.title),
            html.escape(p.organization or ""),
            str(p.listing_date),
            str(p.upvotes),
            " → ".join(str(upvotes) for _, upvotes in p.curve),
        )
        for number, p in enumerate(trends.top, 1)
    ]
    return _section(
        "top-papers",
        "Top papers and their upvotes over time",
        "The most upvoted papers of the span; each line is a paper's upvotes as the crawls saw them.",
        _svg(figure),
        ("#", "paper", "title", "organization", "listed", "upvotes", "upvotes seen"),
        rows,
        escaped=True,
    )


def _organizations(trends: Trends) -> str:
    if not trends.organizations:
        return _note(
            "organizations", "Organizations", "No paper of this span names an organization."
        )
    figure, axes = _figure()
    shown = list(reversed(trends.organizations))
    _bars(axes, [o.name for o in shown], [o.papers for o in shown], "#55a868")
    axes.set_xlabel("papers")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    rows = [(o.name, str(o.papers), str(o.upvotes)) for o in trends.organizations]
    return _section(
        "organizations",
        "Organizations with the most papers",
        "By papers, then upvotes (the papers' current upvotes summed).",
        _svg(figure),
        ("organization", "papers", "upvotes"),
        rows,
    )


def _keywords(trends: Trends) -> str:
    if trends.keywords is None:
        return _note("keywords", "Rising keywords", "No paper of this span has keywords.")
    if trends.halves is None:
        return _note("keywords", "Rising keywords", "A span of one day has no halves to compare.")
    (first, _), (middle, last) = trends.halves
    how = (
        f"Papers with each keyword in the second half of the span ({middle} to {last})"
        f" against the first half ({first} to {middle - dt.timedelta(days=1)})."
    )
    if not trends.keywords:
        return _note("keywords", "Rising keywords", f"No keyword rose. {how}")
    figure, axes = _figure()
    shown = list(reversed(trends.keywords))
    _bars(axes, [k.keyword for k in shown], [k.rise for k in shown], "#c44e52")
    axes.set_xlabel("more papers in the second half")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    rows = [(k.keyword, str(k.before), str(k.after), f"+{k.rise}") for k in trends.keywords]
    return _section(
        "keywords",
        "Keywords that rose the most",
        how,
        _svg(figure),
        ("keyword", "first half", "second half", "rise"),
        rows,
    )


def _figure() -> tuple[Figure, matplotlib.axes.Axes]:
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
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
    """
    text = " ".join(CONTROLS.sub(" ", name).split())
    if len(text) > LABEL_CHARACTERS:
        text = text[: LABEL_CHARACTERS - 1] + "…"
    return text


def _svg(figure: Figure) -> str:
    """The figure as an SVG element to inline: no XML prolog or DOCTYPE
    (whose DTD address no page should name), no RDF metadata, no date."""
    buffer = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)


def _section(
    anchor: str,
    heading: str,
    explanation: str,
    svg: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    escaped: bool = False,
) -> str:
    """A chart (hidden from screen readers) and the table of its numbers."""
    numeric = {"papers", "upvotes", "#", "first half", "second half", "rise"}
    head = "".join(
        f'<th scope="col"{" class=n" if c in numeric else ""}>{html.escape(c)}</th>'
        for c in columns
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if c in numeric else ''}>{v if escaped else html.escape(v)}</td>"
            for c, v in zip(columns, row, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    svg = re.sub(r"^<svg ", '<svg aria-hidden="true" focusable="false" ', svg)
    return f"""<section aria-labelledby="{anchor}-heading">
<h2 id="{anchor}-heading">{html.escape(heading)}</h2>
<p>{html.escape(explanation)}</p>
<figure>{svg}</figure>
<table id="{anchor}"><caption>{html.escape(heading)}</caption>
<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
</section>"""


def _note(anchor: str, heading: str, text: str) -> str:
    return f"""<section aria-labelledby="{anchor}-heading">
<h2 id="{anchor}-heading">{html.escape(heading)}</h2>
<p id="{anchor}">{html.escape(text)}</p>
</section>"""
