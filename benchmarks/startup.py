"""Each command's start, as a person runs it on a small archive, against a
bare ``python -c "import scrapy"`` and Scrapy's own ``scrapy version``
(outside any project) in the same run.

A command's start is mostly imports; what it costs is CPU, so the figure
is each process's CPU time (user + system), the least of several runs
taken in turns: on a shared machine the wall time of one process says
more of its neighbours than of it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.export import build_archive

PROJECT = Path(__file__).resolve().parents[1]
#: Each command as a person starts it (``-h`` where its work is not
#: start-up: a crawl's requests, the report's drawing).
COMMANDS = {
    "crawl -h": ["crawl", "-h"],
    "search": ["search", "retrieval"],
    "export": ["export", "-o", "-"],
    "export atom": ["export", "-o", "papers.atom"],
    "report -h": ["report", "-h"],
    "upgrade": ["upgrade"],
}
#: A command may take this many times a bare ``import scrapy``.
GOAL = 2.5


def cpu_seconds(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """The CPU time (user + system) of a process running ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def start_up(quick: bool, workdir: Path) -> dict[str, Any]:
    """The figure's fields (``Figure``'s): each command's CPU against bare
    ``import scrapy``; its value the largest ratio."""
    repeats = 2 if quick else 7
    build_archive(workdir / "papers.sqlite", 50)
    (workdir / "bare").mkdir()
    project = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "digest_crawler.settings",
        "PYTHONPATH": str(PROJECT),
    }
    bare = {k: v for k, v in project.items() if k != "SCRAPY_SETTINGS_MODULE"}
    runs: dict[str, tuple[list[str], Path, dict[str, str]]] = {
        "import scrapy": ([sys.executable, "-c", "import scrapy"], workdir / "bare", bare),
        "scrapy version": ([sys.executable, "-m", "scrapy", "version"], workdir / "bare", bare),
        **{
            name: ([sys.executable, "-m", "scrapy", *arguments], workdir, project)
            for name, arguments in COMMANDS.items()
        },
    }
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            best[name] = min(best[name], cpu_seconds(*run))
    ratios = {name: seconds / best["import scrapy"] for name, seconds in best.items()}
    worst = max(ratios[name] for name in COMMANDS)
    shown = ", ".join(f"{name} {best[name]:.2f} s ({ratios[name]:.2f}x)" for name in COMMANDS)
    return {
        "name": "10. command start-up, CPU",
        "measured": f"bare import scrapy {best['import scrapy']:.2f} s, Scrapy's own scrapy"
        f" version {best['scrapy version']:.2f} s ({ratios['scrapy version']:.2f}x); {shown}",
        "value": worst,
        "goal": f"each <= {GOAL}x bare import scrapy",
        "met": worst <= GOAL,
        "details": {"cpu_s": best, "ratio_to_import_scrapy": ratios},
    }
