"""The raw answers, kept as the record: every answer the crawl reads, as WARC.

Each run keeps the answers it reads (listing pages, API pages, the
redirects that answer a listing, robots.txt) in one compressed WARC file
(ISO 28500, version 1.1, written by warcio) under the raw-answers folder:
for each answer a ``request`` record (its headers without the token or
cookies) and a ``response`` record (status, headers, body, the moment it
was received, the payload's digest). An answer whose body was kept before
for the same URL (a settled day read again) is a ``revisit`` record that
points at the earlier one by its digest, with no second copy of the body.

The body kept is the one the reading rules read: Scrapy has undone the
transfer coding (chunked) and the content coding (gzip, br, ...) by the
time an answer reaches this middleware, which sits below the retry and
decompression middlewares so that it sees each answer the spider is given
once, not the attempts a retry replaced. Its headers say so: the
``Content-Length`` is the kept body's, and the codings undone are named in
``X-Digest-Crawler-Decoded`` (the served ``Content-Encoding`` and length).

Every record is one gzip member written whole and flushed: a process killed
while writing leaves at most a last record cut short, which ``read_kept``
never takes for a good one (its block must have its length and digest).
The next run writes a file of its own.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from digest_crawler import __version__
from digest_crawler.config import RAW_INDEX, Config
from digest_crawler.site.reading import RECEIVED_AT

logger = logging.getLogger(__name__)

#: Headers of a request that are never kept: the token and cookies.
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
#: Response headers that describe the bytes as served, not as kept.
_SERVED_CODING = frozenset({"content-length", "content-encoding", "transfer-encoding"})
#: The kept payloads' index, one JSON line each: what a revisit points at.
INDEX = RAW_INDEX
#: The warcinfo field of the day the run took as today.
TODAY = "digest-today"
#: The record header that names the codings undone before the body was kept.
DECODED = "X-Digest-Crawler-Decoded"
_META_SERVED = "digest_served_coding"


def payload_digest(body: bytes) -> str:
    """WARC's payload digest: ``sha1:`` and the SHA-1 in base 32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_date(moment: dt.datetime) -> str:
    """A WARC 1.1 date, UTC to the microsecond."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Kept:
    """One answer read back from a kept WARC file."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    received_at: dt.datetime
    #: The file and the offset of its response (or revisit) record.
    file: Path
    offset: int
    #: The day the run that read it took as today (its file's warcinfo says).
    today: dt.date | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class Keeper:
    """Writes one run's answers into one ``.warc.gz`` file in ``folder``,
    made on the first answer (a run that reads nothing leaves no file)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path: Path | None = None
        self._file: IO[bytes] | None = None
        self._writer: Any = None
        self._kept = _read_index(folder / INDEX)

    def keep(
        self,
        request: Request,
        response: Response,
        received_at: dt.datetime,
        served: tuple[str | None, str | None] = (None, None),
        today: dt.date | None = None,
    ) -> bool:
        """Keep one answer; ``True`` when its body was kept, ``False`` when
        a revisit points at an earlier copy. ``today`` is the day the run
        takes as today (which days its reads settle), kept with the file."""
        from warcio.statusandheaders import StatusAndHeaders

        writer = self._open(received_at, today)
        date = warc_date(received_at)
        body = response.body
        digest = payload_digest(body)
        headers = [
            (name, value)
            for name, value in _headers(response.headers)
            if name.lower() not in _SERVED_CODING
        ]
        headers.append(("Content-Length", str(len(body))))
        encoding, length = served
        if encoding:
            headers.append((DECODED, f"{encoding}; served-length={length or 'unknown'}"))
        status = f"{response.status} {_reason(response.status)}"
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        earlier = self._kept.get((response.url, digest))
        if earlier is not None:
            record = writer.create_revisit_record(
                response.url,
                digest=digest,
                refers_to_uri=response.url,
                refers_to_date=earlier,
                http_headers=http,
                warc_headers_dict={"WARC-Date": date},
            )
        else:
            record = writer.create_warc_record(
                response.url,
                "response",
                payload=io.BytesIO(body),
                # Its length given, warcio digests the body in place (no
                # temporary file); its payload digest given, only once.
                length=len(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": date, "WARC-Payload-Digest": digest},
            )
        target = request.url.split("://", 1)[-1].partition("/")
        line = f"{request.method} /{target[2]} HTTP/1.1"
        kept_headers = [
            (name, value)
            for name, value in _headers(request.headers)
            if name.lower() not in SECRET_HEADERS
        ]
        host = ("Host", target[0])
        asked = writer.create_warc_record(
            request.url,
            "request",
            http_headers=StatusAndHeaders(
                line, [host, *kept_headers], protocol="HTTP/1.1", is_http_request=True
            ),
            warc_headers_dict={
                "WARC-Date": date,
                "WARC-Concurrent-To": record.rec_headers.get_header("WARC-Record-ID"),
            },
        )
        self._write(record, asked)
        if earlier is None:
            self._kept[(response.url, digest)] = date
            self._index({"url": response.url, "digest": digest, "date": date})
        return earlier is None

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def _open(self, received_at: dt.datetime, today: dt.date | None) -> Any:
        if self._writer is None:
            from warcio.warcwriter import WARCWriter

            self.folder.mkdir(parents=True, exist_ok=True)
            # Named by its first answer's moment: the files sort as they were begun.
            name = f"digest-{received_at:%Y%m%dT%H%M%S%fZ}-{os.getpid()}.warc.gz"
            self.path = self.folder / name
            # "x": never append to another run's file (or a damaged one).
            self._file = self.path.open("xb")
            self._writer = WARCWriter(self._file, gzip=True, warc_version="1.1")
            about = {"software": f"digest_crawler/{__version__}", "format": "WARC 1.1"}
            if today is not None:
                about[TODAY] = today.isoformat()
            info = self._writer.create_warcinfo_record(name, about)
            self._write(info)
        return self._writer

    def _write(self, *records: Any) -> None:
        """Each record whole (one gzip member, one write), then flushed.
        Compressed at zlib's level 1: a listing page takes a quarter of the
        CPU of warcio's level 9 for a quarter more bytes (measured on the
        fixtures: 48 against 39 KB a page)."""
        assert self._file is not None
        for record in records:
            plain = io.BytesIO()
            type(self._writer)(plain, gzip=False, warc_version="1.1").write_record(record)
            packer = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS + 16)
            self._file.write(packer.compress(plain.getvalue()) + packer.flush())
        self._file.flush()

    def _index(self, entry: dict[str, str]) -> None:
        assert self.path is not None
        line = json.dumps({**entry, "file": self.path.name}, separators=(",", ":")) + "\n"
        # One short line a write, appended: two runs at once interleave whole lines.
        with (self.folder / INDEX).open("a", encoding="utf-8") as index:
            index.write(line)


def _read_index(path: Path) -> dict[tuple[str, str], str]:
    """(url, digest) -> the date of the record that holds that body. A line
    cut short (a killed run) or not ours is skipped: at worst a body is
    kept twice."""
    kept: dict[tuple[str, str], str] = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return kept
    for line in lines:
        try:
            entry = json.loads(line)
            kept.setdefault((str(entry["url"]), str(entry["digest"])), str(entry["date"]))
        except (ValueError, KeyError, TypeError):
            continue
    return kept


def _headers(headers: Any) -> Iterator[tuple[str, str]]:
    for name, values in headers.items():
        for value in values:
            yield name.decode("latin-1"), value.decode("latin-1")


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class ServedCoding:
    """Notes how an answer was served (its ``Content-Encoding`` and
    ``Content-Length``) before Scrapy decodes it, for the kept record."""

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        encoding = response.headers.get("Content-Encoding")
        if encoding:
            length = response.headers.get("Content-Length")
            request.meta[_META_SERVED] = (
                encoding.decode("latin-1"),
                length.decode("latin-1") if length else None,
            )
        return response


class KeepAnswers:
    """Keeps every answer the spider is given, as WARC (see the module)."""

    def __init__(self, keeper: Keeper, crawler: Crawler) -> None:
        self.keeper = keeper
        self.crawler = crawler
        self.stats = crawler.stats
        self.failed = False
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KeepAnswers:
        config = Config.from_settings(crawler.settings)
        folder = config.raw_folder
        if folder is None:
            raise NotConfigured("DIGEST_RAW_ANSWERS is off")
        return cls(Keeper(folder), crawler)

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        received_at = dt.datetime.now(dt.UTC)
        request.meta[RECEIVED_AT] = received_at
        try:
            arguments = getattr(spider or self.crawler.spider, "arguments", None)
            whole = self.keeper.keep(
                request,
                response,
                received_at,
                request.meta.get(_META_SERVED, (None, None)),
                getattr(arguments, "today", None),
            )
        except OSError as exc:
            self._count("raw_errors")
            if not self.failed:
                self.failed = True
                logger.error(
                    "Could not keep the raw answer of %s in %s: %s; the crawl goes on"
                    " without keeping it (digest/raw_errors)",
                    response.url,
                    self.keeper.path or self.keeper.folder,
                    exc.strerror or exc,
                )
        else:
            self._count("answers_kept" if whole else "answers_revisited")
        return response

    def close(self) -> None:
        try:
            self.keeper.close()
        except OSError as exc:
            self._count("raw_errors")
            logger.error("Could not close %s: %s", self.keeper.path, exc.strerror or exc)

    def _count(self, name: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"digest/{name}")


def kept_files(folder: Path) -> list[Path]:
    """The kept WARC files, oldest first (their names begin with the moment)."""
    return sorted(folder.glob("*.warc.gz"))


@dataclass(frozen=True)
class _Record:
    received_at: dt.datetime
    kind: str
    url: str
    digest: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    file: Path
    offset: int
    today: dt.date | None


def read_kept(folder: Path, damaged: list[str] | None = None) -> Iterator[Kept]:
    """Every answer kept in ``folder``'s WARC files, in the order received
    (the files of two runs at once interleave); a revisit carries the body
    it points at. A record cut short or altered (its block's length or
    digest wrong) ends its file: it is noted in ``damaged``, never read as
    good."""
    where: dict[tuple[str, str], tuple[Path, int]] = {}
    for record in _in_order(kept_files(folder), damaged):
        body = record.body
        if record.kind == "response":
            where[(record.url, record.digest)] = (record.file, record.offset)
        else:
            found = where.get((record.url, record.digest))
            if found is None:
                if damaged is not None:
                    damaged.append(
                        f"{record.file.name}: a revisit of {record.url} whose body is not kept"
                    )
                continue
            body = next(_records(found[0], offset=found[1], one=True)).body
        yield Kept(
            url=record.url,
            status=record.status,
            headers=record.headers,
            body=body,
            received_at=record.received_at,
            file=record.file,
            offset=record.offset,
            today=record.today,
        )


def _started(path: Path) -> dt.datetime:
    """When a kept file was begun: its name says (a file named otherwise is
    read from the start)."""
    try:
        stamp = path.name.split("-")[1]
        return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=dt.UTC)
    except (IndexError, ValueError):
        return dt.datetime.min.replace(tzinfo=dt.UTC)


def _in_order(files: list[Path], damaged: list[str] | None) -> Iterator[_Record]:
    """The records of ``files`` merged by the moment received. A file is
    opened when the merge reaches the moment it was begun, so only the
    files of runs that overlapped are open together."""
    import heapq

    pending = sorted(files, key=_started, reverse=True)
    heap: list[tuple[dt.datetime, int, _Record, Iterator[_Record]]] = []
    count = 0
    while heap or pending:
        while pending and (not heap or _started(pending[-1]) <= heap[0][0]):
            records = _records(pending.pop(), damaged)
            first = next(records, None)
            if first is not None:
                heapq.heappush(heap, (first.received_at, count := count + 1, first, records))
        if not heap:
            continue
        _, _, record, records = heapq.heappop(heap)
        yield record
        following = next(records, None)
        if following is not None:
            heapq.heappush(heap, (following.received_at, count := count + 1, following, records))


def _records(
    path: Path, damaged: list[str] | None = None, offset: int = 0, one: bool = False
) -> Iterator[_Record]:
    """The response and revisit records of one file (from ``offset``), each
    block checked whole."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.statusandheaders import StatusAndHeadersParser

    parser = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"])
    today = None
    with path.open("rb") as stream:
        stream.seek(offset)
        records = ArchiveIterator(stream, no_record_parse=True)
        for record in records:
            headers = record.rec_headers
            block = record.raw_stream.read()
            declared = headers.get_header("Content-Length")
            digest = headers.get_header("WARC-Block-Digest")
            if (
                declared is None
                or len(block) != int(declared)
                or (digest is not None and payload_digest(block) != digest)
            ):
                if damaged is not None:
                    at = offset + records.offset
                    damaged.append(f"{path.name}: the record at byte {at:,} is cut short")
                return
            kind = headers.get_header("WARC-Type")
            if kind == "warcinfo":
                today = _today(block) or today
            if kind not in ("response", "revisit"):
                continue
            stream_block = io.BytesIO(block)
            http = parser.parse(stream_block)
            yield _Record(
                received_at=dt.datetime.fromisoformat(headers.get_header("WARC-Date")),
                kind=kind,
                url=headers.get_header("WARC-Target-URI"),
                digest=headers.get_header("WARC-Payload-Digest"),
                status=int(http.get_statuscode()),
                headers=list(http.headers),
                body=stream_block.read(),
                file=path,
                offset=offset + records.offset,
                today=today,
            )
            if one:
                return


def _today(block: bytes) -> dt.date | None:
    """The day a warcinfo record says its run took as today."""
    for line in block.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition(":")
        if name.strip() == TODAY:
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                return None
    return None
