"""The raw answers kept as WARC: written whole, read back exactly (by
warcio, and by read_kept), a settled answer kept once, no secret kept, a
record cut short never read as good."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse
from warcio.archiveiterator import ArchiveIterator

from digest_crawler.raw import DECODED, INDEX, Keeper, kept_files, payload_digest, read_kept
from tests.conftest import FIXTURES

PAGE = (FIXTURES / "listing-2026-07-31.html").read_bytes()
API = (FIXTURES / "sources" / "api-daily-papers-2026-07-31.json").read_bytes()
BASE = "https://huggingface.co"
T0 = dt.datetime(2026, 7, 31, 21, 30, 0, 123456, tzinfo=dt.UTC)


def answer(
    path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[Request, TextResponse]:
    request = Request(
        BASE + path, headers={"Authorization": "Bearer hf_secret", "Cookie": "session=s3cret"}
    )
    kind = HtmlResponse if path.startswith("/papers") else TextResponse
    response = kind(
        BASE + path,
        body=body,
        headers={"Content-Type": "text/html; charset=utf-8", **(headers or {})},
        request=request,
    )
    return request, response


def keep(folder: Path, *answers: tuple[str, bytes, dt.datetime]) -> Keeper:
    keeper = Keeper(folder)
    for path, body, moment in answers:
        keeper.keep(*answer(path, body), moment)
    keeper.close()
    return keeper


def test_each_answer_reads_back_exactly_with_its_moment(tmp_path: Path) -> None:
    later = T0 + dt.timedelta(seconds=4)
    keep(tmp_path, ("/papers/date/2026-07-31", PAGE, T0), ("/api/daily_papers?date=x", API, later))
    kept = list(read_kept(tmp_path))
    assert [(k.url, k.status, k.body, k.received_at) for k in kept] == [
        (BASE + "/papers/date/2026-07-31", 200, PAGE, T0),
        (BASE + "/api/daily_papers?date=x", 200, API, later),
    ]
    assert kept[0].header("content-type") == "text/html; charset=utf-8"
    assert kept[0].header("content-length") == str(len(PAGE))
    # warcio itself reads every record, each digest checked.
    (path,) = kept_files(tmp_path)
    with path.open("rb") as stream:
        records = [
            (record.rec_type, record.content_stream().read(), record.digest_checker.passed)
            for record in ArchiveIterator(stream, check_digests=True)
        ]
    assert [kind for kind, _, _ in records] == [
        "warcinfo",
        "response",
        "request",
        "response",
        "request",
    ]
    assert records[1][1:] == (PAGE, True) and records[3][1:] == (API, True)


def test_no_kept_request_holds_the_token_or_a_cookie(tmp_path: Path) -> None:
    keep(tmp_path, ("/papers/date/2026-07-31", PAGE, T0))
    (path,) = kept_files(tmp_path)
    whole = gzip.decompress(path.read_bytes())
    assert b"hf_secret" not in whole and b"s3cret" not in whole
    assert b"GET /papers/date/2026-07-31 HTTP/1.1" in whole and b"Host: huggingface.co" in whole


def test_a_body_read_again_unchanged_is_a_revisit_not_a_second_copy(tmp_path: Path) -> None:
    changed = PAGE.replace(b"upvotes", b"upvotez", 1)
    moments = [T0 + dt.timedelta(days=n) for n in range(4)]
    keep(tmp_path, ("/papers/date/2026-07-31", PAGE, moments[0]))
    # Later runs: the same bytes twice (a settled day), then changed ones.
    keep(tmp_path, ("/papers/date/2026-07-31", PAGE, moments[1]))
    keep(
        tmp_path,
        ("/papers/date/2026-07-31", PAGE, moments[2]),
        ("/papers/date/2026-07-31", changed, moments[3]),
    )
    files = kept_files(tmp_path)
    assert len(files) == 3 and files[1].stat().st_size < 2_000 < len(gzip.compress(PAGE))
    kept = list(read_kept(tmp_path))
    assert [(k.body, k.received_at) for k in kept] == [
        (PAGE, moments[0]),
        (PAGE, moments[1]),
        (PAGE, moments[2]),
        (changed, moments[3]),
    ]
    index = (tmp_path / INDEX).read_text().splitlines()
    assert len(index) == 2 and payload_digest(changed) in index[1]


def test_the_codings_undone_are_said_and_the_length_is_the_kept_body_s(tmp_path: Path) -> None:
    keeper = Keeper(tmp_path)
    request, response = answer(
        "/papers/date/2026-07-31",
        PAGE,
        {"Content-Length": "12345", "Transfer-Encoding": "chunked"},
    )
    keeper.keep(request, response, T0, ("gzip", "12345"))
    keeper.close()
    (kept,) = read_kept(tmp_path)
    assert kept.header("Content-Length") == str(len(PAGE))
    assert kept.header("Transfer-Encoding") is None
    assert kept.header(DECODED) == "gzip; served-length=12345"


@pytest.mark.parametrize("cut", [1, 10, 200, 5_000, 20_000])
def test_a_file_cut_short_reads_to_its_last_whole_record_never_further(
    tmp_path: Path, cut: int
) -> None:
    """What kill -9 or a full disk leaves: the records before the cut read
    as kept; one cut short is noted and never read as good. (A record that
    lost only its gzip trailer is whole: its block's length and digest hold.)"""
    api = API.replace(b"2026-07-31", b"2026-07-30")
    keep(tmp_path, ("/papers/date/2026-07-31", PAGE, T0), ("/api/x", api, T0))
    (path,) = kept_files(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - cut])
    damaged: list[str] = []
    kept = list(read_kept(tmp_path, damaged))
    assert [(k.url, k.body) for k in kept] == [
        (BASE + "/papers/date/2026-07-31", PAGE),
        (BASE + "/api/x", api),
    ][: len(kept)]
    if cut >= 200:  # into the last request record's block, or the API answer's
        assert len(damaged) == 1 and "cut short" in damaged[0]
    if cut >= 5_000:
        assert len(kept) == 1


def test_a_revisit_whose_body_is_lost_is_noted_not_invented(tmp_path: Path) -> None:
    keep(tmp_path, ("/papers/date/2026-07-31", PAGE, T0))
    keep(tmp_path, ("/papers/date/2026-07-31", PAGE, T0 + dt.timedelta(days=1)))
    kept_files(tmp_path)[0].unlink()
    damaged: list[str] = []
    assert list(read_kept(tmp_path, damaged)) == []
    assert damaged == [
        f"{kept_files(tmp_path)[0].name}: a revisit of {BASE}/papers/date/2026-07-31"
        " whose body is not kept"
    ]


def test_a_damaged_index_line_costs_at_most_a_second_copy(tmp_path: Path) -> None:
    keep(tmp_path, ("/papers/date/2026-07-31", PAGE, T0))
    with (tmp_path / INDEX).open("a") as index:
        index.write('{"url": "cut sh')
    keep(tmp_path, ("/papers/date/2026-07-31", PAGE, T0 + dt.timedelta(days=1)))
    assert [k.body for k in read_kept(tmp_path)] == [PAGE, PAGE]
    assert kept_files(tmp_path)[1].stat().st_size < 2_000  # still a revisit


def test_the_files_of_two_runs_at_once_are_read_in_the_order_received(tmp_path: Path) -> None:
    first, second = Keeper(tmp_path), Keeper(tmp_path)
    moments = [T0 + dt.timedelta(seconds=n) for n in range(4)]
    first.keep(*answer("/papers/date/2026-07-30", b"a"), moments[0])
    second.keep(*answer("/papers/date/2026-07-31", b"b"), moments[1])
    first.keep(*answer("/papers/date/2026-07-29", b"c"), moments[2])
    second.keep(*answer("/papers/date/2026-07-28", b"d"), moments[3])
    first.close()
    second.close()
    assert [k.body for k in read_kept(tmp_path)] == [b"a", b"b", b"c", b"d"]
    assert len(kept_files(tmp_path)) == 2
