"""Figures of the fault suite, printed in pytest's summary (see conftest.py)."""

from __future__ import annotations

from collections import Counter

RELIABILITY: Counter[str] = Counter()
