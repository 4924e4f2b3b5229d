"""Fixtures: the ship's computer, installed once per session into a throw-away root."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The suite imports test modules by path (--import-mode=importlib); the helpers
# beside this file are made importable by name for the test modules here.
sys.path.insert(0, str(Path(__file__).parent))

from shiproot import DEMO_CONFIG, need_root, need_tools, run_installer, seed_root


@pytest.fixture(scope="session")
def installed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root where the installer ran once with the demo ship's config."""
    need_root()
    need_tools("systemd-sysusers", "systemd-tmpfiles", "systemctl", "systemd-analyze")
    root = tmp_path_factory.mktemp("shiproot")
    seed_root(root)
    result = run_installer(root, "--config", str(DEMO_CONFIG))
    assert result.returncode == 0, result.stderr[-3000:]
    return root
