"""Counts in what a person reads: "1 listing day", "2 listing days"."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, in the plural (``plural``, else ``noun + "s"``)
    unless the number is one.

    >>> counted(1, "listing day"), counted(3, "paper"), counted(0, "match", "matches")
    ('1 listing day', '3 papers', '0 matches')
    """
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
