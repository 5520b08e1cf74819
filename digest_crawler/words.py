"""Counts and spans in what a person reads: "1 listing day", "2 min 5 s"."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, in the plural (``plural``, else ``noun + "s"``)
    unless the number is one.

    >>> counted(1, "listing day"), counted(3, "paper"), counted(0, "match", "matches")
    ('1 listing day', '3 papers', '0 matches')
    """
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def duration(seconds: float) -> str:
    """A span of time as a person reads it.

    >>> duration(42), duration(125), duration(7322), duration(999_999)
    ('42 s', '2 min 5 s', '2 h 2 min', '277 h 46 min')
    """
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
