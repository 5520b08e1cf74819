from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest_crawler.site.processors import clean_url, collapse_whitespace, to_int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Q&A <Bench>", "Q&A <Bench>"),  # plain text: no tag stripping
        ("&amp; stays &amp;", "&amp; stays &amp;"),  # no second entity decoding
        ("  a \n\t b  ", "a b"),
        ("$\\alpha < \\beta$", "$\\alpha < \\beta$"),
        ("InternW0-Δ 中文 🚀", "InternW0-Δ 中文 🚀"),
        ("nul\x00byte", "nulbyte"),
        ("\x00", None),
        ("", None),
        (" \n ", None),
        (None, None),
        (42, None),
    ],
)
def test_collapse_whitespace(value: object, expected: str | None) -> None:
    assert collapse_whitespace(value) == expected


@given(st.text())
def test_collapse_whitespace_keeps_every_non_space_character(text: str) -> None:
    result = collapse_whitespace(text)
    assert (result or "").replace(" ", "") == "".join(
        text.replace("\x00", "").split()
    )  # NUL is dropped
    if result is not None:
        assert "  " not in result and result == result.strip()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (110, 110),
        ("110", 110),
        (" 17 ", 17),
        ("1,204", 1204),
        ("-3", None),
        ("1.2k", None),
        ("", None),
        (None, None),
        (True, None),
        (2.0, None),
        ("12,34", None),
    ],
)
def test_to_int(value: object, expected: int | None) -> None:
    assert to_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://github.com/Hongyang-Du/FuseReg", "https://github.com/Hongyang-Du/FuseReg"),
        ("\n https://www.askchem.org \t", "https://www.askchem.org"),
        ("https://example.org/a b", "https://example.org/a%20b"),
        ("", None),
        (None, None),
    ],
)
def test_clean_url(value: object, expected: str | None) -> None:
    assert clean_url(value) == expected


@given(
    st.one_of(
        st.text(),
        st.text(alphabet="0123456789,٠١٢ ", max_size=30),
        st.text(alphabet="0123456789", min_size=4000, max_size=6000),
        st.sampled_from(["http://[::1", "https://x\ud800y", "javascript:alert(1)", "//", "[::]"]),
        st.integers(),
        st.none(),
        st.booleans(),
        st.floats(),
    )
)
def test_processors_never_raise(value: object) -> None:
    """One odd value must never cost the rest of its listing: a processor
    returns something for validation to judge, or nothing."""
    text = collapse_whitespace(value)
    assert text is None or (isinstance(text, str) and text)
    number = to_int(value)
    # An int, or a run of ASCII digits too long for a count: text for validation to refuse.
    assert number is None or isinstance(number, int) or (number.isascii() and number.isdigit())
    url = clean_url(value)
    assert url is None or (isinstance(url, str) and url.lower().startswith(("http://", "https://")))
