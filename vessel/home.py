"""A ship's home folder: ship.toml, pias.db, keys/ and outgoing bundles.

Chosen by --home, else $PIAS_HOME, else the per-user data folder. Only
`pias init` creates one; every other command refuses a folder that is not a
home, so a typo in a path never starts an empty ship by accident.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ledger.files import atomic_write
from vessel import config as config_mod
from vessel import setup
from vessel.clock import utcnow
from vessel.config import ShipConfig
from vessel.errors import Refused
from vessel.ship import Ship
from vessel.store import connect

CONFIG_NAME = "ship.toml"
DB_NAME = "pias.db"


def default_home() -> Path:
    env = os.environ.get("PIAS_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pias"


@dataclass(frozen=True)
class Home:
    path: Path

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_NAME

    @property
    def db_path(self) -> Path:
        return self.path / DB_NAME

    @property
    def keys_dir(self) -> Path:
        return self.path / "keys"

    @property
    def outbox(self) -> Path:
        return self.path / "outbox"

    def exists(self) -> bool:
        return self.config_path.is_file() and self.db_path.is_file()

    def require(self) -> Home:
        if not self.exists():
            raise Refused("not_a_home", path=str(self.path))
        return self

    def load_config(self) -> ShipConfig:
        return config_mod.load(self.config_path)


def resolve(arg: str | os.PathLike[str] | None) -> Home:
    return Home(Path(arg) if arg else default_home())


def init(home: Home, *, config_file: Path | None = None, demo: bool = False) -> ShipConfig:
    """Create a home from a config file (or the demo ship's); nothing is created if it is bad."""
    if home.exists():
        raise Refused("home_exists", path=str(home.path))
    if config_file is not None:
        text = config_file.read_text(encoding="utf-8") if config_file.is_file() else None
        if text is None:
            raise config_mod.ConfigError(str(config_file), "(file)", "does not exist")
        cfg = config_mod.parse(text, str(config_file), home=home.path)
    else:
        text = config_mod.demo_text()
        cfg = config_mod.parse(text, "demo ship", home=home.path)
    home.path.mkdir(parents=True, exist_ok=True)
    os.chmod(home.path, 0o750)
    home.keys_dir.mkdir(mode=0o700, exist_ok=True)
    home.outbox.mkdir(mode=0o750, exist_ok=True)
    atomic_write(home.config_path, text.encode("utf-8"), mode=0o640)
    cfg = home.load_config()
    db = connect(home.db_path)
    ship = Ship(db=db, config=cfg, clock=utcnow)
    try:
        setup.sync_config(ship)
        if demo:
            setup.create_demo_operators(ship)
    finally:
        db.conn.close()
    return cfg


def open_ship(home: Home, **kwargs) -> Ship:
    """Open an existing home's ship, keeping the database in step with its config."""
    home.require()
    cfg = home.load_config()
    db = connect(home.db_path)
    ship = Ship(db=db, config=cfg, **kwargs)
    setup.sync_config(ship)
    return ship


def remove(home: Home) -> None:
    shutil.rmtree(home.path)
