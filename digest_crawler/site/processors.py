"""Small pure processors for the item loader, and how a page's text is
quoted in a log line or a reason (``quoted``).

Text from the hydration JSON is already plain text: these never strip
"tags" or decode entities, they only tidy whitespace.
"""

from __future__ import annotations

import re

from w3lib.html import strip_html5_whitespace
from w3lib.url import safe_url_string

# ASCII digits only (int() would also read other scripts' digits), and at
# most 18 of them: more is no count, and int() refuses past 4,300.
_WEB_URL = re.compile(r"^https?://[^/?#\s]+", re.IGNORECASE)
_INTEGER = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3}){1,5}$|^[0-9]{1,18}$")


#: The most characters of a page's text a log line or a reason quotes.
QUOTED_MAX = 200


def quoted(value: object) -> str:
    """``value`` quoted (``repr``: it cannot forge a log line), cut to
    ``QUOTED_MAX`` characters: a page's 10 MB field or a 15 KB Location is
    not copied into every log line and ledger row that names it.

    >>> quoted("2607.00001")
    "'2607.00001'"
    >>> quoted("x" * 5000)[-30:]
    'xxxxxxxx... (5,002 characters)'
    """
    shown = repr(value)
    if len(shown) <= QUOTED_MAX:
        return shown
    return f"{shown[:QUOTED_MAX]}... ({len(shown):,} characters)"


def collapse_whitespace(value: object) -> str | None:
    """Collapse whitespace runs to one space and trim; ``None`` for empty.

    NUL characters are dropped: no real text holds one, and PostgreSQL
    refuses them in text columns, so the rule is the same on every backend.

    >>> collapse_whitespace("  Q&A <Bench>\\n\\t  for  LLMs ")
    'Q&A <Bench> for LLMs'
    >>> collapse_whitespace("nul\\x00byte")
    'nulbyte'
    >>> collapse_whitespace("   ") is None
    True
    """
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        value = value.replace("\x00", "")
    return " ".join(value.split()) or None


def to_int(value: object) -> int | str | None:
    """An integer from an int or a digit string such as ``"1,204"``.

    Anything else (``None``, ``"n/a"``, a float, a bool, digits of other scripts) gives
    ``None`` so that validation reports the field as missing rather than
    guessing; a run of more digits than any count has is passed on as text,
    for validation to refuse as no integer.

    >>> to_int(" 1,204 "), to_int(7), to_int("7 authors"), to_int(True), to_int("\\u0667")
    (1204, 7, None, None, None)
    >>> to_int("9" * 5000) == "9" * 5000
    True
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.match(text):
            return int(text.replace(",", ""))
        if text.isascii() and text.isdigit():
            return text
    return None


def clean_url(value: object) -> str | None:
    """A link as a safe absolute URL string; ``None`` for empty.

    >>> clean_url(" https://github.com/Hongyang-Du/FuseReg ")
    'https://github.com/Hongyang-Du/FuseReg'
    >>> clean_url("https://example.org/a b")
    'https://example.org/a%20b'
    >>> clean_url("http://[::1") is None  # no URL at all
    True
    >>> [clean_url(v) for v in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd")]
    [None, None, None]
    """
    if not isinstance(value, str):
        return None
    text = strip_html5_whitespace(value)
    try:
        url = safe_url_string(text) if text else None
    except (ValueError, UnicodeError):  # an unparseable host, a lone surrogate
        return None
    # Feeds go into tools that render links: http(s) with a host, or nothing.
    if url is None or not _WEB_URL.match(url):
        return None
    return url
