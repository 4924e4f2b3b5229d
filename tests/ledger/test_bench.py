"""The benchmark runs small and prints every figure it promises (no timing is asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "bench" / "ledger.py"


@pytest.mark.slow
def test_bench_quick_prints_its_figures(tmp_path: Path):
    r = subprocess.run([sys.executable, str(BENCH), "--quick", "--dir", str(tmp_path)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for figure in ("mlkem768-x25519", "x25519", "plain INSERT", "INSERT + ledger", "ratio", "verify", "bundle",
                   "offload + ingest", "over HTTP"):
        assert figure in r.stdout, figure
    assert list(tmp_path.iterdir()) == []  # it cleans up after itself
