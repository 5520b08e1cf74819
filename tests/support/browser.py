"""Open a local file in headless Chromium (Debian's ``/usr/bin/chromium``)
and report what happened: console errors, uncaught exceptions, every
network request the page made, values read from its DOM, a screenshot.

Spoken over the DevTools protocol with ``websocket-client``: nothing is
downloaded (no browser bundle, no driver). Where Chromium is missing
(``apt-get install chromium``) a browser test skips, unless
``DIGEST_REQUIRE_SERVICES=1`` (CI), where that is a failure
(``require_chromium``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import websocket

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
_FLAGS = (
    "--headless",
    "--no-sandbox",  # as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1200,900",
    "--remote-debugging-port=0",
    "about:blank",
)


def require_chromium() -> None:
    """Skip the calling test where there is no Chromium to open a page in;
    fail it instead under ``DIGEST_REQUIRE_SERVICES=1``, as CI runs."""
    if Path(CHROMIUM).is_file():
        return
    message = f"no Chromium at {CHROMIUM} to open the report in (apt-get install chromium)"
    if os.environ.get("DIGEST_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class PageVisit:
    """What opening one page did."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    values: Any = None


class _DevTools:
    """One websocket to the browser; commands to one page's session."""

    def __init__(self, url: str) -> None:
        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.events: list[dict[str, Any]] = []
        self.next_id = 0

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            answer = json.loads(self.socket.recv())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return dict(answer.get("result", {}))
            self.events.append(answer)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.events.append(json.loads(self.socket.recv()))


@contextlib.contextmanager
def _browser() -> Iterator[_DevTools]:
    profile = Path(tempfile.mkdtemp(prefix="digest_chromium_"))
    process = subprocess.Popen(
        [CHROMIUM, *_FLAGS, f"--user-data-dir={profile}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{CHROMIUM} did not start (exit status {process.poll()})")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        tools = _DevTools(f"ws://127.0.0.1:{port}{path}")
        try:
            yield tools
        finally:
            tools.socket.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def visit(page: Path, screenshot: Path, expression: str = "null") -> PageVisit:
    """Open ``page``, wait for its load event, evaluate ``expression`` in it
    (its JSON value is ``values``) and save a full-page PNG to ``screenshot``."""
    with _browser() as tools:
        target = tools.call("Target.createTarget", url="about:blank")["targetId"]
        session = tools.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.call(f"{domain}.enable", session)
        tools.events.clear()  # what about:blank did is not the page's
        tools.call("Page.navigate", session, url=page.resolve().as_uri())
        tools.wait_for("Page.loadEventFired")
        result = tools.call(
            "Runtime.evaluate", session, expression=f"JSON.stringify({expression})"
        )["result"]
        size = tools.call("Page.getLayoutMetrics", session)["cssContentSize"]
        shot = tools.call(
            "Page.captureScreenshot",
            session,
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        )
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        return _read(tools.events, json.loads(result.get("value", "null")))


def _read(events: list[dict[str, Any]], values: Any) -> PageVisit:
    found = PageVisit(values=values)
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            found.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            found.console_errors.append(json.dumps(params["args"]))
        elif method == "Runtime.exceptionThrown":
            found.console_errors.append(json.dumps(params["exceptionDetails"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            found.console_errors.append(params["entry"]["text"])
    return found
