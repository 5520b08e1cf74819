"""Characters that act rather than show: control characters (C0, DEL, C1:
a terminal's escape sequences start with them) and the marks that reorder
the text after them (bidi embeddings, overrides and isolates, the line and
paragraph separators). Text from the archive or the command line is
escaped before a terminal reads it (``escaped``), and a chart leaves them
out (``outputs.report``)."""

from __future__ import annotations

import re

#: Every such character.
CONTROLS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def escaped(text: str) -> str:
    r"""``text`` with every control character or bidi mark written as its
    Python escape, so that a terminal shows it instead of acting on it;
    everything else (accents, emoji, other scripts) as it is.

    >>> print(escaped("Title\x1b]0;pwned\x07 \u202eevil école 🤗"))
    Title\x1b]0;pwned\x07 \u202eevil école 🤗
    """
    return CONTROLS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def quoted(text: str, most: int = 80) -> str:
    """``text`` quoted for a message: its ``repr``, cut after ``most``
    characters (a query or name may be any length).

    >>> quoted("agent*"), quoted("a" * 100, most=5)
    ("'agent*'", "'aaaaa…' (100 characters)")
    """
    if len(text) <= most:
        return repr(text)
    return f"{text[:most]!r}"[:-1] + f"…' ({len(text)} characters)"
