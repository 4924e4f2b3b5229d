"""Config files: the demo parses, and every kind of mistake is named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from vessel import config
from vessel import home as home_mod
from vessel.config import ConfigError


def demo_with(old: str, new: str) -> str:
    text = config.demo_text()
    assert old in text, old
    return text.replace(old, new, 1)


def test_demo_ship_is_valid():
    cfg = config.load_demo()
    assert cfg.ship_name == "PIAS Río Napo"
    assert next(s.community for s in cfg.stops) == "Mazán"
    assert cfg.stops[-1].community == "Cabo Pantoja"
    assert {s.code for s in cfg.stations} >= {"salud", "banco", "reniec", "programas"}
    assert cfg.priority_class("adulto_mayor").min_age == 60


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ('desks = 3', 'desks = "tres"', "stations[0].desks", "whole number"),
        ('desks = 3', 'desks = 0', "stations[0].desks", "from 1 to 20"),
        ('policy = "ageing"', 'policy = "random"', "queue.policy", "strict, ageing, alternate"),
        ('baud = "auto"', 'baud = "fast"', "gps.baud", "auto"),
        ('lat = -3.4963', 'lat = -93.4963', "stops[0].lat", "from -90 to 90"),
        ('lat = -3.4963\n', '', "stops[0].lat", "is missing"),
        ('arrive = "2026-11-02"', 'arrive = "2 de noviembre"', "stops[0].arrive", "date"),
        ('stations = ["salud", "reniec", "programas"]\n\n[[stops]]\ncommunity = "Santa Clotilde"',
         'stations = ["salud", "dentista"]\n\n[[stops]]\ncommunity = "Santa Clotilde"',
         "stops[1].stations", "unknown station 'dentista'"),
        ('id = "pias-rio-napo"', 'id = "pias rio napo"', "ship.id", "letters, digits"),
        ('code = "banco"', 'code = "salud"', "stations", "used twice"),
        ('language = "es"', 'language = "fr"', "ship.language", "es, en"),
    ],
)
def test_bad_field_is_named(tmp_path: Path, old, new, field, words):
    path = tmp_path / "ship.toml"
    path.write_text(demo_with(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert err.value.field == field
    assert words in err.value.problem
    assert str(path) in str(err.value)


def test_syntax_error_and_missing_file(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[ship\nid = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="syntax"):
        config.load(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "none.toml")


def test_stops_out_of_order(tmp_path: Path):
    path = tmp_path / "ship.toml"
    path.write_text(demo_with('arrive = "2026-11-04"', 'arrive = "2026-11-01"'), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert err.value.field == "stops[1].arrive"


def test_bad_config_creates_nothing(tmp_path: Path):
    path = tmp_path / "ship.toml"
    path.write_text(demo_with('desks = 3', 'desks = -1'), encoding="utf-8")
    home = home_mod.Home(tmp_path / "new-ship")
    with pytest.raises(ConfigError):
        home_mod.init(home, config_file=path)
    assert not home.path.exists()
