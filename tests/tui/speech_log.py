"""A stand-in speech program for tests: a short Python process that logs what it said and when.

It writes the text with its start and end times (monotonic clock), so tests
can check the order of announcements and that no two overlapped.
"""

from __future__ import annotations

import sys
from pathlib import Path

SPEAKER = (
    "import sys, time\n"
    "start = time.monotonic()\n"
    "time.sleep(float(sys.argv[2]))\n"
    "with open(sys.argv[1], 'a', encoding='utf-8') as f:\n"
    "    f.write(f'{sys.argv[3]}\\t{start}\\t{time.monotonic()}\\n')\n"
)


def speaker(log: Path, seconds: float = 0.15) -> list[str]:
    """A speech command line; the announcer appends the text as the last argument."""
    return [sys.executable, "-c", SPEAKER, str(log), str(seconds)]


def read_log(log: Path) -> list[tuple[str, float, float]]:
    if not log.exists():
        return []
    rows = []
    for line in log.read_text(encoding="utf-8").splitlines():
        text, start, end = line.split("\t")
        rows.append((text, float(start), float(end)))
    return rows
