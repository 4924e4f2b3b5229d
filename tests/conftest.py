"""Shared fixtures: a real ship home on disk, with a clock the test controls."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vessel import campaign, i18n, operators
from vessel import home as home_mod
from vessel.clock import FixedClock
from vessel.ship import Ship

START = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _spanish():
    i18n.set_language("es")
    yield
    i18n.set_language("es")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One demo home made once (hashing eight PINs with scrypt is slow on purpose), copied per test."""
    home = home_mod.Home(tmp_path_factory.mktemp("template") / "ship")
    home_mod.init(home, demo=True)
    return home.path


@pytest.fixture
def demo_home(tmp_path: Path, _demo_template: Path) -> home_mod.Home:
    shutil.copytree(_demo_template, tmp_path / "ship")
    return home_mod.Home(tmp_path / "ship")


@pytest.fixture
def ship(demo_home: home_mod.Home, clock: FixedClock) -> Ship:
    s = home_mod.open_ship(demo_home, clock=clock)
    yield s
    s.close()


@pytest.fixture
def coordinator(ship: Ship) -> operators.Actor:
    return operators.get(ship, "coordinador")


@pytest.fixture
def at_stop(ship: Ship, coordinator: operators.Actor) -> campaign.Stop:
    """The ship arrived at its first stop (Mazán, where every station serves)."""
    return campaign.arrive(ship, coordinator, campaign.stops(ship)[0].id)
