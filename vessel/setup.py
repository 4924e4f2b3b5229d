"""Keeping the database in step with ship.toml: stations, desks and the itinerary.

The config is the source of truth for what the ship offers; the database keeps
what happened. Syncing adds stations, desks and planned stops and updates their
descriptions, but never removes anything that history points at.
"""

from __future__ import annotations

import json

from vessel import operators
from vessel.clock import iso
from vessel.ship import Ship
from vessel.store import transaction

# Demo accounts: printed by `pias demo` and shown on the demo's login screen.
DEMO_OPERATORS = [
    ("coordinador", "Coordinadora de campaña", "coordinator", None, "1234"),
    ("registro", "Mesa de registro", "registration", None, "1111"),
    ("puente", "Oficial de guardia", "bridge", None, "2222"),
    ("salud", "Consultorio de salud", "station", "salud", "3333"),
    ("banco", "Ventanilla del banco", "station", "banco", "4444"),
    ("reniec", "Registrador RENIEC", "station", "reniec", "5555"),
    ("programas", "Gestor de programas sociales", "station", "programas", "6666"),
    ("mujer", "Especialista CEM", "station", "mujer", "7777"),
]


def sync_config(ship: Ship) -> None:
    cfg = ship.config
    with transaction(ship.db) as conn:
        row = conn.execute("SELECT ship_id FROM ship WHERE id = 1").fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO ship (id, ship_id, name, campaign_code, campaign_name, created_at) "
                "VALUES (1, ?, ?, ?, ?, ?)",
                (cfg.ship_id, cfg.ship_name, cfg.campaign_code, cfg.campaign_name, iso(ship.now())),
            )
        else:
            conn.execute(
                "UPDATE ship SET name = ?, campaign_code = ?, campaign_name = ? WHERE id = 1",
                (cfg.ship_name, cfg.campaign_code, cfg.campaign_name),
            )
        for s in cfg.stations:
            conn.execute(
                "INSERT INTO stations (code, letter, name_es, name_en, institution, desks) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(code) DO UPDATE SET letter = excluded.letter, "
                "name_es = excluded.name_es, name_en = excluded.name_en, "
                "institution = excluded.institution, desks = excluded.desks",
                (s.code, s.letter, s.name_es, s.name_en, s.institution, s.desks),
            )
            for n in range(1, s.desks + 1):
                conn.execute(
                    "INSERT OR IGNORE INTO desks (code, station, number) VALUES (?, ?, ?)",
                    (f"{s.code}-{n}", s.code, n),
                )
        for seq, stop in enumerate(cfg.stops, start=1):
            conn.execute(
                "INSERT INTO stops (seq, community, lat, lon, planned_arrive, planned_depart, stations) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(seq) DO UPDATE SET community = excluded.community, "
                "lat = excluded.lat, lon = excluded.lon, planned_arrive = excluded.planned_arrive, "
                "planned_depart = excluded.planned_depart, stations = excluded.stations",
                (
                    seq, stop.community, stop.lat, stop.lon, stop.arrive.isoformat(),
                    stop.depart.isoformat(), json.dumps(list(stop.stations)),
                ),
            )


def create_demo_operators(ship: Ship) -> None:
    existing = {r["login"] for r in ship.rows("SELECT login FROM operators")}
    for login, name, role, station, pin in DEMO_OPERATORS:
        if login not in existing:
            operators.create(ship, None, login, name, role, pin, station)
