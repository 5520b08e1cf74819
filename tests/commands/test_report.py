"""``scrapy report`` (``commands/report.py``): its one-line error when
matplotlib is missing. The report's page is tested in tests/outputs/test_report.py."""

from __future__ import annotations

import sys

import pytest

from digest_crawler.cli import OptionError
from digest_crawler.commands.report import ReportOptions, report


def test_without_matplotlib_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "digest_crawler.outputs.report", raising=False)
    with pytest.raises(OptionError, match=r"needs matplotlib .*pip install -e '\.\[report\]'"):
        report("sqlite:///nowhere.sqlite", ReportOptions())
