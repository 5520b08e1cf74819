"""The watch file: read whole, each fault one line naming the watch and
the key, secrets from the environment and never in a destination's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest_crawler.watchfile import WatchFileError, read_watches

HOOK = "json://127.0.0.1:8080/hook"


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the file named as the default is: watches.toml


def read(tmp_path: Path, text: str, **environment: str) -> list:
    path = tmp_path / "watches.toml"
    path.write_text(text, encoding="utf-8")
    return read_watches(Path("watches.toml"), environment)


def refused(tmp_path: Path, text: str, **environment: str) -> str:
    with pytest.raises(WatchFileError) as raised:
        read(tmp_path, text, **environment)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_a_watch_s_keys_and_their_defaults(tmp_path: Path) -> None:
    (agents, every) = read(
        tmp_path,
        f'[watches.agents]\nquery = "agent*"\norganization = "Kling Team"\nauthor = "Zoë Ünlü"\n'
        f'min_upvotes = 5\nmin_models = 1\nmin_datasets = 2\nmin_spaces = 3\nnotify = ["{HOOK}"]\n'
        'feed = "~/agents.atom"\nlimit = 3\nfeed_size = 9\n'
        '[watches.every]\nfeed = "all.atom"\n',
    )
    assert agents.name == "agents" and agents.watch.limit == 3 and agents.watch.feed_size == 9
    assert agents.watch.chosen.organization == "Kling Team"
    assert agents.watch.chosen.min_upvotes == 5
    assert (agents.watch.chosen.min_models, agents.watch.chosen.min_datasets) == (1, 2)
    assert agents.watch.chosen.min_spaces == 3
    assert agents.feed == Path("~/agents.atom").expanduser()
    (hook,) = agents.destinations
    assert (hook.written, hook.url, hook.secrets) == (HOOK, HOOK, ())
    # Apprise's private form, without the parameters it adds with their
    # defaults (which change from one release of Apprise to the next).
    assert hook.shown == "json://127.0.0.1:8080/hook"
    assert (every.watch.limit, every.watch.feed_size, every.destinations) == (20, 50, ())


def test_a_secret_comes_from_the_environment_and_is_never_in_the_name(tmp_path: Path) -> None:
    (watched,) = read(
        tmp_path,
        '[watches.a]\nnotify = ["mailto://me:${SMTP_PASSWORD}@127.0.0.1:2525?to=me@example.org&from=me@example.org",'
        ' "json://127.0.0.1/hooks/${TOKEN}"]\n',
        SMTP_PASSWORD="pa55-w0rd",
        TOKEN="t0k3n-abc",
    )
    mail, hook = watched.destinations
    assert "pa55-w0rd" in mail.url and mail.secrets == ("pa55-w0rd",)
    assert mail.shown.startswith("mailto://me:****@127.0.0.1:2525")
    # A token in a path Apprise shows: blanked all the same.
    assert "t0k3n-abc" in hook.url and "t0k3n-abc" not in hook.shown
    assert hook.shown.startswith("json://127.0.0.1/hooks/****")


def test_the_same_destination_twice_is_one(tmp_path: Path) -> None:
    (watched,) = read(
        tmp_path, f'[watches.a]\nnotify = ["{HOOK}", "{HOOK}", "{HOOK}?method=GET"]\n'
    )
    assert [d.shown for d in watched.destinations] == [
        "json://127.0.0.1:8080/hook",
        "json://127.0.0.1:8080/hook?method=GET",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[watches.a]\nnotfy = ["x"]\n',
            "'watches.toml': [watches.a] notfy: unknown key (a watch's keys: query,",
        ),
        (
            '[watch.a]\nfeed = "x"\n',
            "'watches.toml': key 'watch': unknown key (the file holds [watches.NAME] tables)",
        ),
        (
            '[watches.a]\nfeed = "x"\nlimit = 0\n',
            "[watches.a] limit: Input should be greater than or equal to 1",
        ),
        (
            '[watches.a]\nfeed = "x"\nmin_upvotes = "5"\n',
            "[watches.a] min_upvotes: Input should be a valid integer",
        ),
        (
            '[watches.a]\nfeed = "x"\nquery = ""\n',
            "[watches.a] query: String should have at least 1 character",
        ),
        ('[watches.a]\nnotify = "json://h"\n', "[watches.a] notify: Input should be a valid list"),
        ('[watches.a]\nquery = "x"\n', "[watches.a]: neither notify nor feed: nothing to do"),
        ('[watches."a b"]\nfeed = "x"\n', "[watches.a b]: a watch's name is letters, digits"),
        ("", "'watches.toml' holds no watch (a table [watches.NAME] for each)"),
        ("watches = 3\n", "[watches]: Input should be a valid dictionary"),
        ("[watches.a\n", "'watches.toml' is not TOML: "),
        (
            '[watches.a]\nnotify = ["nope://me:hunter2@host"]\n',
            "[watches.a] notify: 'nope://me:****@host' is no URL Apprise knows",
        ),
        (
            '[watches.a]\nnotify = ["json://h/${MISSING}"]\n',
            "[watches.a] notify: the environment has no variable MISSING",
        ),
    ],
)
def test_a_fault_is_one_line_naming_the_watch_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    said = refused(tmp_path, text)
    assert message in said, said
    assert "hunter2" not in said


def test_a_file_that_is_not_utf8_or_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "watches.toml"
    path.write_bytes(b"[watches.a]\nfeed = '\xff'\n")
    with pytest.raises(WatchFileError, match="is not TOML"):
        read_watches(path, {})
    with pytest.raises(WatchFileError, match="cannot read it: "):
        read_watches(tmp_path, {})  # a directory
