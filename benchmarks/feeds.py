"""Peak memory of exporting the Atom and RSS feeds at two archive sizes,
against JSONL's (which streams) in the same run: a feed written entry by
entry needs no more memory for a larger archive."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.export import build_archive

#: The archives' sizes (papers): small and four times larger.
SIZES = {"quick": (1_000, 4_000), "full": (20_000, 80_000)}
KINDS = ("jsonl", "atom", "rss")
#: Growth from the small archive to the large one that is still flat.
FLAT_MB = 20
#: Exports in a process of its own and prints its peak RSS (VmHWM, kB).
CHILD = """
import sys
from pathlib import Path
from benchmarks.export import ours
ours(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
status = Path("/proc/self/status").read_text().splitlines()
print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


def peak_mb(database: Path, kind: str, workdir: Path) -> float:
    """The peak RSS (MB) of a process that exports ``database`` as ``kind``."""
    output = workdir / f"out.{kind}"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(database), str(output), kind],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    output.unlink()
    return int(result.stdout.split()[-1]) / 1024


def peak_memory(quick: bool, workdir: Path) -> dict[str, Any]:
    """The figure's fields (``Figure``'s): each format's peak RSS at both
    sizes; its value the larger growth of Atom's and RSS's."""
    small, large = SIZES["quick" if quick else "full"]
    peaks: dict[str, dict[int, float]] = {kind: {} for kind in KINDS}
    for count in (small, large):
        database = workdir / f"feeds-{count}.sqlite"
        build_archive(database, count)
        for kind in KINDS:
            peaks[kind][count] = peak_mb(database, kind, workdir)
        database.unlink()
    growth = {kind: peaks[kind][large] - peaks[kind][small] for kind in KINDS}
    worst = max(growth["atom"], growth["rss"])
    shown = "; ".join(
        f"{kind} {peaks[kind][small]:.0f} -> {peaks[kind][large]:.0f} MB ({growth[kind]:+.1f})"
        for kind in KINDS
    )
    return {
        "name": f"9. export peak RSS, {small:,} vs {large:,} papers",
        "measured": shown,
        "value": worst,
        "goal": f"Atom and RSS <= +{FLAT_MB} MB (flat, as JSONL)",
        "met": worst <= FLAT_MB,
        "details": {"papers": [small, large], "peak_mb": peaks, "growth_mb": growth},
    }
