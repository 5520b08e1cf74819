"""Real servers on loopback that ``scrapy watch`` sends to: an SMTP server
(aiosmtpd, with a login) that keeps each email, and an HTTP server that
keeps each JSON post (Apprise's ``json://``)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: The SMTP login the tests' Apprise URLs give (the password from the
#: environment: ``${SMTP_PASSWORD}``).
SMTP_USER = "digest"
SMTP_PASSWORD = "s3cr3t-Pa55-w0rd"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """What the SMTP server received: each email, and each login's password."""

    emails: list[EmailMessage] = field(default_factory=list)
    passwords: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.emails.append(message)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult

        login, password = (part.decode() for part in (data.login, data.password))
        self.passwords.append(password)
        return AuthResult(success=login == SMTP_USER and password == SMTP_PASSWORD)


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 that can be stopped and started
    again on the same port (a mail server down for a night)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self.mailbox.authenticate,
            auth_require_tls=False,
        )
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
        self.controller = None

    def url(self, password: str = "${SMTP_PASSWORD}") -> str:
        """An Apprise URL of this server (the password as the file says it)."""
        return (
            f"mailto://{SMTP_USER}:{password}@127.0.0.1:{self.port}"
            "?from=digest@example.org&to=reader@example.org&mode=insecure"
        )


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        if server.controller is not None:
            server.stop()


@dataclass
class Webhook:
    """What the HTTP server received: each JSON body posted."""

    url: str
    posts: list[dict[str, Any]]
    #: Seconds each answer waits (runs that overlap).
    delay: float = 0.0


@contextmanager
def webhook() -> Iterator[Webhook]:
    """An HTTP server on 127.0.0.1 that keeps every JSON post (``json://``)."""
    received = Webhook("", [])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            time.sleep(received.delay)
            received.posts.append(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received.url = f"json://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def email_text(message: EmailMessage) -> str:
    """An email's text part."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def email_html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())
