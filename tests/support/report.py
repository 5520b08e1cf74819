"""Figures of the fault suite, printed in pytest's summary (see conftest.py).

Under pytest-xdist each worker counts its own tests; the controller adds
the workers' counts up before printing them (tests/conftest.py)."""

from __future__ import annotations

from collections import Counter

RELIABILITY: Counter[str] = Counter()
