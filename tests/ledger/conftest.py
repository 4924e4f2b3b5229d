"""Fixtures for the ledger tests; the helpers beside this file are importable by name."""

from __future__ import annotations

import sys
from pathlib import Path

# The suite imports test modules by path (--import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))

from ledger_helpers import db, keyring, ledger  # noqa: F401 - fixtures
