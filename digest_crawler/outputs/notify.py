"""Sending through Apprise (``scrapy watch``): one Apprise object per
destination, so that whether each one accepted a message is known.

Apprise is the ``watch`` extra, imported when a watch file is read: every
other command starts without it. Its log (which may say why a destination
refused) is kept from the terminal and read back as the reason of a
failure; a destination is named by ``url(privacy=True)`` only (Apprise's
form without a password or token), and any secret the URL was given from
the environment is blanked from what is said.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

#: The most characters of a reason said.
REASON_LENGTH = 200


class NotifyError(Exception):
    """A one-line reason a destination cannot be used (Apprise is missing)."""


def apprise() -> Any:
    """The ``apprise`` module; a ``NotifyError`` naming the extra without it."""
    try:
        import apprise
    except ImportError:
        raise NotifyError(
            "scrapy watch sends through Apprise: pip install 'digest_crawler[watch]'"
        ) from None
    return apprise


@dataclass(frozen=True)
class Message:
    """One message: its title line (an email's subject), and its body as
    text and as HTML."""

    title: str
    text: str
    html: str


def private_form(url: str) -> str | None:
    """How Apprise shows ``url`` with its password or token hidden (the
    destination's name, kept with what it was sent); ``None`` for a URL no
    Apprise plugin takes."""
    module = apprise()
    with _apprise_log():
        plugin = module.Apprise.instantiate(url, asset=_asset())
    return None if plugin is None else str(plugin.url(privacy=True))


def send(url: str, message: Message, secrets: tuple[str, ...] = ()) -> str | None:
    """Send ``message`` to the one destination ``url``: HTML where that is
    the destination's format (an email: HTML, with Apprise's text form of
    it beside), text elsewhere. ``None`` when it accepted the message, else the
    reason (Apprise's last warning, ``secrets`` blanked)."""
    module = apprise()
    with _apprise_log() as said:
        destination = module.Apprise(asset=_asset())
        plugin = module.Apprise.instantiate(url, asset=_asset())
        if plugin is None or not destination.add(plugin):
            return "Apprise no longer takes this URL"
        html = _takes_html(plugin, module.NotifyFormat.HTML)
        try:
            accepted = destination.notify(
                title=message.title,
                body=message.html if html else message.text,
                body_format=module.NotifyFormat.HTML if html else module.NotifyFormat.TEXT,
            )
        except Exception as exc:  # a plugin's own failure is this destination's
            said.append(f"{type(exc).__name__}: {exc}")
            accepted = False
    if accepted:
        return None
    reason = said[-1] if said else "Apprise says it was not sent"
    return blanked(" ".join(reason.split()), secrets)[:REASON_LENGTH]


def _takes_html(plugin: Any, html: Any) -> bool:
    """Whether HTML is the destination's own format (an email's; a webhook
    takes text). Apprise 2 resolves a plugin's formats, the first its own;
    1.9 has one a plugin."""
    resolve = getattr(plugin, "resolve_format", None)
    return bool((resolve(None) if resolve is not None else plugin.notify_format) == html)


def blanked(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with each of ``secrets`` (values put in a URL from the
    environment) written as ``****``.

    >>> blanked("535 bad password s3cr3t", ("s3cr3t", ""))
    '535 bad password ****'
    """
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "****")
    return text


def _asset() -> Any:
    """Apprise's settings: nothing kept on disk between runs."""
    module = apprise()
    return module.AppriseAsset(storage_mode=module.PersistentStoreMode.MEMORY)


class _Collect(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def _apprise_log() -> Iterator[list[str]]:
    """Apprise's warnings and errors, collected instead of reaching the
    terminal (a command without a log would print them)."""
    logger = logging.getLogger("apprise")
    lines: list[str] = []
    handler = _Collect(lines)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
