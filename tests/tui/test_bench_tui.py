"""bench/tui.py runs end to end when small, and prints every figure it promises."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tui.py"


@pytest.mark.slow
def test_quick_bench_prints_its_figures():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--tickets", "120"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "a ship with 120 tickets" in out
    for label in ("pias tui (login)", "pias display", "120 tickets", "150 tickets (baseline)", "pias tui"):
        assert label in out
    assert re.search(r"pias display\s+\d+ms\s+\d+ms\s+[\d.]+", out)
    assert re.search(r"120 tickets\s+[\d.]+ms\s+[\d.]+ms", out)
    assert re.search(r"pias tui\s+[\d.]+MB\s+[\d.]+MB", out)
    assert re.search(r"^targets: first screen \d+ ms .* RSS [\d.]+ MB \(<= 120\): (met|NOT met)$", out, re.M)
