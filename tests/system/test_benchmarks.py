"""Smoke test of the benchmark command: every figure is produced (their values are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import PROJECT, crawl_env

# A few minutes of measuring: `pytest -m benchmark` runs it, the default run does not.
pytestmark = [pytest.mark.system, pytest.mark.benchmark]

FIGURES = (
    "1. extraction",
    "2. end to end",
    "3. storage",
    "4. peak RSS",
    "5. politeness",
    "5b. politeness through the API",
    "5c. pacing of the pages",
    "5d. pacing of the API",
    "6. requests",
    "7. export",
    "8. raw answers",
    "9. export peak RSS",
    "10. command start-up",
    "11. search",
    "12. archive bytes",
)


def test_quick_benchmark_produces_every_figure(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(tmp_path)],
        cwd=PROJECT,
        env=crawl_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (report,) = tmp_path.glob("quick-*.json")
    data = json.loads(report.read_text())
    names = [figure["name"] for figure in data["figures"]]
    assert [
        name.split(",")[0][: len(prefix)] for name, prefix in zip(names, FIGURES, strict=True)
    ] == list(FIGURES)
    for figure in data["figures"]:
        assert isinstance(figure["value"], int | float), figure
        assert isinstance(figure["met"], bool), figure
    assert data["environment"]["cpu_count"] >= 1 and data["environment"]["packages"]["scrapy"]
    (markdown,) = tmp_path.glob("quick-*.md")
    assert markdown.read_text().count("\n| ") == 1 + len(FIGURES)  # the header and a row each
