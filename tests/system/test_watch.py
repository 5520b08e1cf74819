"""``scrapy watch`` for real: an archive crawled by the real command from
the local site, an SMTP server (aiosmtpd) and a webhook (HTTP) on
loopback, and the watch file as a person writes it.

The papers a watch should send are what ``scrapy search`` finds for its
query (another reader of the same archive); each test says what the
servers received, run after run."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import crawl, crawl_env, scrapy
from tests.support.notified import (
    SMTP_PASSWORD,
    SmtpServer,
    Webhook,
    email_html,
    email_text,
    smtp_server,
    webhook,
)
from tests.support.readback import read_atom
from tests.support.site import serve

pytestmark = pytest.mark.system  # the real commands, in subprocesses

DAYS = ("2026-07-13",)  # crawled once: archive, workdir (conftest.py); 2026-07-31 added by tests
LATER_DAY = "2026-07-31"
PAPER_URL = re.compile(r"/papers/([0-9]{4}\.[0-9]{4,5})")
ENVIRONMENT = {"SMTP_PASSWORD": SMTP_PASSWORD}


def watch_file(workdir: Path, smtp: SmtpServer, hook: Webhook, limit: int = 5) -> None:
    """Two watches: agents (email and webhook, a feed), video (email)."""
    (workdir / "watches.toml").write_text(
        f"""
[watches.agents]
query = "agent"
notify = ["{smtp.url()}", "{hook.url}"]
feed = "feeds/agents.atom"
limit = {limit}

[watches.video]
query = "video"
notify = ["{smtp.url()}"]
""",
        encoding="utf-8",
    )
    (workdir / "feeds").mkdir(exist_ok=True)


def watch(workdir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``scrapy watch`` with the SMTP password in its environment."""
    return scrapy(workdir, "watch", *arguments, environment=ENVIRONMENT)


def matching(workdir: Path, query: str, database_url: str | None = None) -> set[str]:
    """What ``scrapy search`` finds for ``query``: the papers a watch of it sends."""
    found = scrapy(workdir, "search", query, "--json", "--limit", "1000", database_url=database_url)
    assert found.returncode == 0, found.stderr
    return {json.loads(line)["arxiv_id"] for line in found.stdout.splitlines()}


def crawl_later_day(workdir: Path, database_url: str | None = None) -> None:
    """The next night's crawl: new papers."""
    settings = ("-s", f"DIGEST_DATABASE_URL={database_url}") if database_url else ()
    with serve() as site:
        stored = crawl(site.url, workdir, "-a", f"date={LATER_DAY}", *settings, feed=None)
    assert stored.returncode == 0, stored.stderr[-2000:]


def listed(text: str) -> list[str]:
    """The papers a message lists, in its order."""
    return PAPER_URL.findall(text)


def emails_of(smtp: SmtpServer, watch_name: str) -> list[EmailMessage]:
    return [m for m in smtp.mailbox.emails if str(m["Subject"]).endswith(f"watch {watch_name}")]


def upvotes(workdir: Path) -> dict[str, tuple[int, str]]:
    connection = sqlite3.connect(workdir / "papers.sqlite")
    try:
        return {
            arxiv_id: (count, day)
            for arxiv_id, count, day in connection.execute(
                "SELECT arxiv_id, upvotes, listing_date FROM papers"
            )
        }
    finally:
        connection.close()


def test_each_watch_emails_its_matches_posts_them_and_a_second_run_sends_nothing(
    workdir: Path,
) -> None:
    with smtp_server() as smtp, webhook() as hook:
        watch_file(workdir, smtp, hook)
        first = watch(workdir)
        assert first.returncode == 0, first.stderr
        assert first.stdout == ""
        assert first.stderr == (
            "Watched 2 watches: 3 messages sent (8 papers), 1 feed written\n"
        ), first.stderr
        agents, video = matching(workdir, "agent"), matching(workdir, "video")
        assert (len(agents), len(video)) == (3, 2)
        (agents_email,), (video_email,) = emails_of(smtp, "agents"), emails_of(smtp, "video")
        assert agents_email["Subject"] == "3 new papers for the watch agents"
        assert set(listed(email_text(agents_email))) == agents
        assert set(listed(email_html(agents_email))) == agents  # HTML and text
        assert set(listed(email_text(video_email))) == video
        (post,) = hook.posts
        assert post["title"] == "3 new papers for the watch agents"
        assert set(listed(post["message"])) == agents
        # Best first: most upvotes, then the newest.
        counts = upvotes(workdir)
        order = listed(post["message"])
        assert order == sorted(order, key=lambda i: (-counts[i][0], counts[i][1]))
        assert smtp.mailbox.passwords == [SMTP_PASSWORD, SMTP_PASSWORD]  # the login was used

        again = watch(workdir)
        assert again.returncode == 0, again.stderr
        assert again.stderr.startswith("Watched 2 watches: 0 messages sent (0 papers), 1 feed")
        assert (len(smtp.mailbox.emails), len(hook.posts)) == (2, 1)


def test_new_matches_come_best_first_capped_and_the_rest_are_counted(workdir: Path) -> None:
    with smtp_server() as smtp, webhook() as hook:
        watch_file(workdir, smtp, hook, limit=5)
        assert watch(workdir).returncode == 0
        before = matching(workdir, "agent")
        crawl_later_day(workdir)
        new = matching(workdir, "agent") - before
        assert len(new) > 5  # more than the watch's limit
        later = watch(workdir)
        assert later.returncode == 0, later.stderr
        post = hook.posts[-1]
        assert post["title"] == f"{len(new)} new papers for the watch agents"
        counts = upvotes(workdir)
        best = sorted(new, key=lambda i: (-counts[i][0], counts[i][1], i))[:5]
        assert listed(post["message"]) == best
        assert f"and {len(new) - 5} more matched" in post["message"]
        assert "feeds/agents.atom" in post["message"]  # where they are
        (latest,) = emails_of(smtp, "agents")[1:]
        assert listed(email_text(latest)) == best
        # All recorded as sent: the next run sends none of them.
        assert watch(workdir).stderr.startswith("Watched 2 watches: 0 messages sent")
        assert len(hook.posts) == 2


def test_a_mail_server_down_misses_nothing_and_gets_each_paper_once(workdir: Path) -> None:
    with smtp_server() as smtp, webhook() as hook:
        watch_file(workdir, smtp, hook, limit=50)
        assert watch(workdir).returncode == 0
        sent = {
            name: matching(workdir, query)
            for name, query in (("agents", "agent"), ("video", "video"))
        }
        smtp.stop()
        crawl_later_day(workdir)
        missed = {
            name: matching(workdir, query) - sent[name]
            for name, query in (("agents", "agent"), ("video", "video"))
        }
        assert missed["agents"] and missed["video"]

        down = watch(workdir)
        assert down.returncode == 1
        failed = [line for line in down.stderr.splitlines() if "not sent" in line]
        assert len(failed) == 2  # one line per watch's email, naming it
        for line, name in zip(failed, ("agents", "video"), strict=True):
            assert line.startswith(
                f"scrapy watch: failed: [watches.{name}] mailto://digest:****@127.0.0.1:{smtp.port}"
            )
            assert f"its {len(missed[name])} new papers wait for the next run" in line
        summary = down.stderr.splitlines()[-1]
        assert summary.startswith("scrapy watch: FAILED: 2 watches: 1 message sent")
        assert f"[watches.video] mailto://digest:****@127.0.0.1:{smtp.port}" in summary
        # The feed is written all the same, with the new matches.
        in_feed = {entry["id"].rsplit("/", 1)[-1] for entry in feed(workdir)}
        assert missed["agents"] <= in_feed
        # The webhook still got the new matches.
        assert set(listed(hook.posts[-1]["message"])) == missed["agents"]
        assert len(hook.posts) == 2

        smtp.start()
        back = watch(workdir)
        assert back.returncode == 0, back.stderr
        later = smtp.mailbox.emails[2:]
        assert Counter(str(m["Subject"]).rsplit(" ", 1)[-1] for m in later) == {
            "agents": 1,
            "video": 1,
        }
        for name in ("agents", "video"):
            (email,) = emails_of(smtp, name)[1:]
            assert set(listed(email_text(email))) == missed[name]  # exactly the missed ones
        assert len(hook.posts) == 2  # the webhook had them: not again
        assert watch(workdir).returncode == 0
        assert len(smtp.mailbox.emails) == 4  # once


def feed(workdir: Path, name: str = "agents") -> list[dict[str, Any]]:
    """The entries of a watch's feed (valid Atom: ``read_atom`` checks)."""
    return read_atom((workdir / "feeds" / f"{name}.atom").read_bytes())


def test_the_feed_holds_the_latest_matches_whatever_the_day_brought(workdir: Path) -> None:
    """The feed is the watch's newest ``feed_size`` matches, not the day's:
    a night that brought none (a partial day) leaves it as full as before;
    it is replaced whole (a new file renamed over the old)."""
    with webhook() as hook:
        (workdir / "feeds").mkdir()
        (workdir / "watches.toml").write_text(
            f'[watches.agents]\nquery = "agent"\nnotify = ["{hook.url}"]\n'
            'feed = "feeds/agents.atom"\nfeed_size = 4\n',
            encoding="utf-8",
        )
        assert watch(workdir).returncode == 0
        first = [entry["id"] for entry in feed(workdir)]
        assert len(first) == len(matching(workdir, "agent")) == 3  # fewer than feed_size
        inode = (workdir / "feeds" / "agents.atom").stat().st_ino
        crawl_later_day(workdir)
        assert watch(workdir).returncode == 0
        counts = upvotes(workdir)
        newest = sorted(matching(workdir, "agent"), key=lambda i: (counts[i][1], i))[-4:][::-1]
        entries = feed(workdir)
        assert [entry["id"].rsplit("/", 1)[-1] for entry in entries] == newest
        assert (workdir / "feeds" / "agents.atom").stat().st_ino != inode
        # A night with nothing new for the watch: the feed is as full.
        assert watch(workdir).returncode == 0
        assert [entry["id"] for entry in feed(workdir)] == [entry["id"] for entry in entries]
        assert "watch agents (query 'agent')" in (workdir / "feeds" / "agents.atom").read_text()


def received(smtp: SmtpServer, hook: Webhook) -> dict[str, Counter[str]]:
    """Each paper each destination received, and how many times."""
    return {
        "email": Counter(i for m in smtp.mailbox.emails for i in listed(email_text(m))),
        "webhook": Counter(i for post in hook.posts for i in listed(post["message"])),
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_runs_at_once_never_send_a_paper_twice(
    backend: str, workdir: Path, request: pytest.FixtureRequest
) -> None:
    database_url = None
    if backend == "postgresql":
        database_url = request.getfixturevalue("postgres_url")
        with serve() as site:
            stored = crawl(
                site.url,
                workdir,
                "-a",
                f"date={DAYS[0]}",
                "-s",
                f"DIGEST_DATABASE_URL={database_url}",
                feed=None,
            )
        assert stored.returncode == 0, stored.stderr[-2000:]
    settings = ["-s", f"DIGEST_DATABASE_URL={database_url}"] if database_url else []
    with smtp_server() as smtp, webhook() as hook:
        watch_file(workdir, smtp, hook, limit=50)
        hook.delay = 1.0  # each run is still sending when the other starts
        command = [sys.executable, "-m", "scrapy", "watch", *settings]
        runs = [
            subprocess.Popen(
                command,
                cwd=workdir,
                env={**crawl_env(), **ENVIRONMENT},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], results
        agents = matching(workdir, "agent", database_url)
        video = matching(workdir, "video", database_url)
        got = received(smtp, hook)
        assert got["email"] == Counter(agents | video)  # each once
        assert got["webhook"] == Counter(agents)
        summaries = sorted(stderr.splitlines()[-1] for _, stderr in results)
        assert summaries[0].startswith("Watched 2 watches: 0 messages sent")  # the second waited
        assert summaries[1].startswith("Watched 2 watches: 3 messages sent")


GOOD_WATCH = """
[watches.good]
query = "agent"
notify = ["{smtp}", "{hook}"]
"""


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (
            '[watches.bad]\nquery = "agent"\nnotfy = ["{hook}"]\n',
            "watches.toml': [watches.bad] notfy: unknown key (a watch's keys: query,",
        ),
        (
            '[watches.bad]\nquery = "\\"unbalanced"\nnotify = ["{hook}"]\n',
            "[watches.bad] query: cannot parse the query '\"unbalanced': ",
        ),
        (
            '[watches.bad]\nquery = "agent"\nnotify = ["bogus://me:hunter2@example.org/x"]\n',
            "'watches.toml': [watches.bad] notify: 'bogus://me:****@example.org/x' is no URL Apprise knows",
        ),
        (
            '[watches.bad]\nquery = "agent"\nnotify = ["mailto://me:${{NO_SUCH_VARIABLE}}@127.0.0.1"]\n',
            "[watches.bad] notify: the environment has no variable NO_SUCH_VARIABLE",
        ),
        (
            '[watches.bad]\nmin_upvotes = "5"\nnotify = ["{hook}"]\n',
            "[watches.bad] min_upvotes: Input should be a valid integer",
        ),
        ("[watches.bad\n", "'watches.toml' is not TOML: "),
        (
            '[watches.bad]\nquery = "agent"\nnotify = ["{hook}"]\nfeed = "papers.sqlite"\n',
            "[watches.bad] feed: 'papers.sqlite' is the archive itself (setting DIGEST_DATA",
        ),
    ],
    ids=[
        "unknown key",
        "bad query",
        "unknown URL",
        "missing variable",
        "wrong type",
        "no TOML",
        "feed is the archive",
    ],
)
def test_a_watch_file_it_cannot_use_is_one_line_exit_2_and_nothing_sent(
    workdir: Path, second: str, message: str
) -> None:
    with smtp_server() as smtp, webhook() as hook:
        text = GOOD_WATCH + "\n" + second
        (workdir / "watches.toml").write_text(
            text.replace("{smtp}", smtp.url())
            .replace("{hook}", hook.url)
            .replace("{{", "{")
            .replace("}}", "}"),
            encoding="utf-8",
        )
        result = watch(workdir)
        assert (result.returncode, result.stdout) == (2, ""), result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith("scrapy watch: error: ") and message in line, line
        assert "hunter2" not in line
        assert (smtp.mailbox.emails, smtp.mailbox.passwords, hook.posts) == ([], [], [])
        tables = sqlite3.connect(workdir / "papers.sqlite")
        assert tables.execute("SELECT count(*) FROM watch_deliveries").fetchone() == (0,)
        tables.close()


def test_no_watch_file_is_nothing_to_do_and_a_missing_named_one_is_exit_2(
    workdir: Path,
) -> None:
    nothing = scrapy(workdir, "watch")
    assert (nothing.returncode, nothing.stdout) == (0, "")
    assert nothing.stderr.startswith("scrapy watch: no watch file (watches.toml here")
    missing = scrapy(workdir, "watch", "-s", "DIGEST_WATCHES=elsewhere.toml")
    assert missing.returncode == 2
    assert (
        missing.stderr == "scrapy watch: error: setting DIGEST_WATCHES: no file 'elsewhere.toml'\n"
    )


def test_the_archive_must_be_of_this_release(tmp_path: Path) -> None:
    with smtp_server() as smtp, webhook() as hook:
        watch_file(tmp_path, smtp, hook)
        result = watch(tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("scrapy watch: error: no database at sqlite:///papers.sqlite")


def test_the_password_is_never_shown_logged_or_stored(workdir: Path) -> None:
    with smtp_server() as smtp, webhook() as hook:
        watch_file(workdir, smtp, hook)
        runs = [watch(workdir)]
        smtp.stop()
        crawl_later_day(workdir)
        runs.append(watch(workdir, "-s", "LOG_ENABLED=True", "-s", "LOG_LEVEL=DEBUG"))
        smtp.start()
        runs.append(watch(workdir))
        assert [run.returncode for run in runs] == [0, 1, 0]
        assert SMTP_PASSWORD in smtp.mailbox.passwords  # it was given to the server
    everything = "".join(run.stdout + run.stderr for run in runs).encode()
    for path in workdir.rglob("*"):
        if path.is_file():
            everything += path.read_bytes()
    assert b"digest:****@" in everything  # the destination, shown privately
    assert SMTP_PASSWORD.encode() not in everything


def test_without_apprise_it_says_which_extra_to_install(workdir: Path) -> None:
    """Apprise is the ``watch`` extra: ``scrapy watch`` without it, as a
    Python where it cannot be imported runs it."""
    (workdir / "watches.toml").write_text(
        '[watches.a]\nquery = "agent"\nfeed = "a.atom"\n', encoding="utf-8"
    )
    without = (
        "import sys; sys.modules['apprise'] = None; from scrapy.cmdline import execute;"
        " execute(['scrapy', 'watch'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", without],
        cwd=workdir,
        env=crawl_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "scrapy watch: error: scrapy watch sends through Apprise:"
        " pip install 'digest_crawler[watch]'\n"
    )
    assert not (workdir / "a.atom").exists()


def test_the_documented_watch_file_is_read_and_runs(workdir: Path) -> None:
    """docs/watches.md's example: Apprise takes its URLs as written; run
    with them pointed at the local servers, each watch sends and writes what
    ``scrapy search`` finds; its documented error line is the command's."""
    from digest_crawler.watchfile import read_watches
    from tests.support import docs

    page = docs.text("watches.md")
    (example,) = re.findall(r"```toml\n(.*?)```", page, flags=re.S)
    (workdir / "watches.toml").write_text(example, encoding="utf-8")
    read = read_watches(workdir / "watches.toml", {"SMTP_PASSWORD": SMTP_PASSWORD})
    assert [w.name for w in read] == ["agents", "kling"]
    assert read[0].destinations[0].shown.startswith("mailtos://me:****@smtp.example.org")
    (workdir / "public").mkdir()
    with smtp_server() as smtp, webhook() as hook:
        local = re.sub(r'"mailtos://[^"]*"', f'"{smtp.url()}"', example)
        local = local.replace("json://hooks.example.org/digest", hook.url)
        (workdir / "watches.toml").write_text(local, encoding="utf-8")
        result = watch(workdir)
        assert result.returncode == 0, result.stderr
        found = scrapy(
            workdir, "search", 'agent* OR "tool use"', "--min-upvotes", "10", "--json"
        ).stdout.splitlines()
        expected = {json.loads(line)["arxiv_id"] for line in found}
        assert expected
        (email,) = smtp.mailbox.emails
        assert set(listed(email_text(email))) == expected
        assert set(listed(hook.posts[0]["message"])) == expected
        assert (workdir / "public" / "kling.atom").exists()
        documented = re.search(r"^scrapy watch: error: .*$", page, flags=re.M)
        assert documented is not None
        (workdir / "watches.toml").write_text(local.replace("notify =", "notfy ="), "utf-8")
        refused = watch(workdir)
        assert refused.returncode == 2
        assert refused.stderr == documented[0] + "\n"
