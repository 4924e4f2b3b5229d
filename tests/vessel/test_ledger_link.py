"""The ship and its ledger: events sealed in their own transaction, keys from the home, purge after offload."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from ledger import central, keys
from ledger.ingest import Ingester
from ledger.offload import FolderTarget
from vessel import campaign, citizens, events, ledger_link, operators, purge, tickets
from vessel import home as home_mod
from vessel.clock import FixedClock
from vessel.errors import Refused
from vessel.ship import Ship
from vessel.store import transaction


@pytest.fixture
def keyed_home(demo_home: home_mod.Home) -> home_mod.Home:
    ledger_link.create_demo_keys(demo_home, demo_home.load_config())
    return demo_home


@pytest.fixture
def sealed_ship(keyed_home: home_mod.Home, clock: FixedClock) -> Ship:
    s = home_mod.open_ship(keyed_home, clock=clock)
    ledger_link.attach(s, keyed_home)
    yield s
    s.close()


def entries(ship: Ship) -> list[tuple[int, str]]:
    return ship.conn.execute("SELECT seq, kind FROM ledger_entries ORDER BY seq").fetchall()


def test_no_keys_no_ledger(ship: Ship, demo_home: home_mod.Home):
    ledger_link.attach(ship, demo_home)
    assert ship.ledger is None


def test_demo_keys(keyed_home: home_mod.Home):
    cfg = keyed_home.load_config()
    first = keys.load_signing_key(cfg.signing_key).key_id
    ledger_link.create_demo_keys(keyed_home, cfg)  # again: nothing replaced
    assert keys.load_signing_key(cfg.signing_key).key_id == first
    assert stat.S_IMODE(cfg.signing_key.stat().st_mode) == 0o600
    ministry = keyed_home.keys_dir / ledger_link.DEMO_MINISTRY_DIR
    assert stat.S_IMODE((ministry / "midis.key").stat().st_mode) == 0o600
    midis = keys.load_recipient_key(ministry / "midis.key")
    assert keys.load_public(cfg.recipients[0].public_key).key_id == midis.key_id
    assert midis.algorithm == keys.MLKEM768_X25519
    assert [k.name for k in keys.load_ship_registry(ministry / "ships")] == [cfg.ship_id]


def test_event_and_entry_share_the_transaction(sealed_ship: Ship):
    ship = sealed_ship
    coordinator = operators.get(ship, "coordinador")
    stop = campaign.stops(ship)[0]
    campaign.arrive(ship, coordinator, stop.id)
    assert [k for _, k in entries(ship)][-1] == "stop.arrived"
    before = entries(ship)
    with pytest.raises(Refused):
        campaign.arrive(ship, coordinator, stop.id)  # refused: nothing recorded anywhere
    with pytest.raises(RuntimeError), transaction(ship.db):
        events.record(ship, "stop.note", {"text": "x"})
        raise RuntimeError("the change fails after its event was recorded")
    assert entries(ship) == before
    assert ship.conn.execute("SELECT count(*) FROM events WHERE kind = 'stop.note'").fetchone()[0] == 0
    outcome = ledger_link.verify(ship)
    assert outcome.ok and outcome.entries == before[-1][0]


def test_passphrase_from_the_environment(demo_home: home_mod.Home, clock: FixedClock, monkeypatch):
    cfg = demo_home.load_config()
    monkeypatch.delenv(ledger_link.PASSPHRASE_ENV, raising=False)
    ledger_link.create_ship_key(cfg, "cóndor del napo")
    monkeypatch.setenv(ledger_link.PASSPHRASE_ENV, "cóndor del napo")
    ledger_link.create_demo_keys(demo_home, cfg)
    monkeypatch.delenv(ledger_link.PASSPHRASE_ENV)
    ship = home_mod.open_ship(demo_home, clock=clock)
    try:
        with pytest.raises(Refused) as err:
            ledger_link.attach(ship, demo_home)
        assert "PIAS_KEY_PASSPHRASE" in str(err.value)
        monkeypatch.setenv(ledger_link.PASSPHRASE_ENV, "cóndor del napo")
        ledger_link.attach(ship, demo_home)
        assert ship.ledger is not None
    finally:
        ship.close()


def test_missing_recipient_key_refuses_the_ship(keyed_home: home_mod.Home, clock: FixedClock):
    keyed_home.load_config().recipients[0].public_key.unlink()
    ship = home_mod.open_ship(keyed_home, clock=clock)
    try:
        with pytest.raises(Refused) as err:
            ledger_link.attach(ship, keyed_home)
        assert err.value.code == "ledger_link.recipient_missing" and "MIDIS" in str(err.value)
    finally:
        ship.close()


def test_correction_through_events(sealed_ship: Ship):
    ship = sealed_ship
    coordinator = operators.get(ship, "coordinador")
    campaign.arrive(ship, coordinator, campaign.stops(ship)[0].id)
    seq = entries(ship)[-1][0]
    with transaction(ship.db):
        events.record(ship, ledger_link.CORRECTION_KIND,
                      {"amends": seq, "author": "coordinador", "reason": "hora mal anotada", "fields": {}},
                      operator_id=coordinator.id)
    assert ship.conn.execute("SELECT kind, amends FROM ledger_entries ORDER BY seq DESC LIMIT 1").fetchone() == (
        "correction", seq)


def _day_at_a_stop(ship: Ship, clock: FixedClock) -> tuple[int, list[int]]:
    coordinator = operators.get(ship, "coordinador")
    registration = operators.get(ship, "registro")
    nurse = operators.get(ship, "salud")
    stop = campaign.arrive(ship, coordinator, campaign.stops(ship)[0].id)
    people = []
    for i, (given, family, dni) in enumerate([("Flor de María", "Shiguango", "41234567"),
                                              ("Wílder", "Ñuflo Tapullima", "42345678")]):
        clock.advance(minutes=5)
        c = citizens.register(ship, registration, given_names=given, surnames=family, dni=dni,
                              birth_date="1990-01-0" + str(i + 1), sex="F" if i == 0 else "M")
        people.append(c.id)
        tickets.issue(ship, registration, ["salud"], citizen_id=c.id)
    tickets.open_desk(ship, nurse, "salud-1")
    tickets.call_next(ship, nurse, "salud-1")
    tickets.start(ship, nurse, "salud-1")
    tickets.finish(ship, nurse, "salud-1", "served", notes="control prenatal, hemoglobina baja")
    clock.advance(hours=8)
    campaign.depart(ship, coordinator)
    return stop.id, people


def test_purge_after_confirmed_offload(sealed_ship: Ship, keyed_home: home_mod.Home, clock: FixedClock,
                                       tmp_path: Path):
    ship = sealed_ship
    stop_id, people = _day_at_a_stop(ship, clock)
    policy = purge.PurgePolicy()
    usb = tmp_path / "usb"
    ledger_link.offload(ship, target=FolderTarget(usb))
    assert purge.eligible(ship, policy) == []  # written to the drive is not yet received
    ministry = keyed_home.keys_dir / ledger_link.DEMO_MINISTRY_DIR
    conn = central.connect(tmp_path / "central.db")
    central.register(conn, keys.load_ship_registry(ministry / "ships"), "x")
    ingest = Ingester(conn, keys.load_recipient_key(ministry / "midis.key"),
                      keys.load_signing_key(ministry / "receipts.key", role="receipt"))
    assert [o.status for o in ingest.ingest_path(usb)] == ["imported"]
    ledger_link.offload(ship, target=FolderTarget(usb))  # brings the receipt home
    assert purge.eligible(ship, purge.PurgePolicy(enabled=False)) == []
    assert purge.eligible(ship, purge.PurgePolicy(after_hours=48)) == []
    [done] = purge.run(ship, policy)
    assert (done.stop_id, done.citizens) == (stop_id, 2)
    rows = ship.conn.execute("SELECT given_names, surnames, dni, birth_date, purged_at FROM citizens "
                             "WHERE id IN (?, ?)", people).fetchall()
    assert all(r[:4] == ("", "", None, None) and r[4] for r in rows)
    assert ship.conn.execute("SELECT count(*) FROM steps WHERE notes IS NOT NULL").fetchone()[0] == 0
    plain = " ".join(p for (p,) in ship.conn.execute("SELECT payload FROM events"))
    assert "Shiguango" not in plain and "41234567" not in plain and "hemoglobina" not in plain
    assert ship.conn.execute("SELECT purged_at FROM stops WHERE id = ?", (stop_id,)).fetchone()[0]
    assert entries(ship)[-1][1] == "stop.purged"
    # The ministry still has it all, opened from the sealed copy.
    names = [json.loads(p)["surnames"] for (p,) in conn.execute(
        "SELECT payload FROM events WHERE kind = 'citizen.registered' ORDER BY seq")]
    assert names == ["Shiguango", "Ñuflo Tapullima"]
    assert purge.eligible(ship, policy) == []


def test_purge_waits_for_entries_after_the_confirmed_head(sealed_ship: Ship, keyed_home: home_mod.Home,
                                                          clock: FixedClock, tmp_path: Path):
    ship = sealed_ship
    coordinator = operators.get(ship, "coordinador")
    campaign.arrive(ship, coordinator, campaign.stops(ship)[0].id)
    ledger_link.offload(ship, target=FolderTarget(tmp_path / "usb"))
    ministry = keyed_home.keys_dir / ledger_link.DEMO_MINISTRY_DIR
    conn = central.connect(tmp_path / "central.db")
    central.register(conn, keys.load_ship_registry(ministry / "ships"), "x")
    Ingester(conn, keys.load_recipient_key(ministry / "midis.key"),
             keys.load_signing_key(ministry / "receipts.key", role="receipt")).ingest_path(tmp_path / "usb")
    ledger_link.offload(ship, target=FolderTarget(tmp_path / "usb"))
    clock.advance(hours=1)
    campaign.depart(ship, coordinator)  # this event is not ashore yet
    assert purge.eligible(ship, purge.PurgePolicy()) == []


def test_purge_policy_from_ship_toml(tmp_path: Path):
    path = tmp_path / "ship.toml"
    assert purge.PurgePolicy.from_file(path) == purge.PurgePolicy()
    path.write_text("[purge]\nenabled = false\nafter_hours = 12\n", encoding="utf-8")
    assert purge.PurgePolicy.from_file(path) == purge.PurgePolicy(enabled=False, after_hours=12)
    from vessel.config import ConfigError

    path.write_text("[purge]\nafter_hours = \"soon\"\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"purge\.after_hours"):
        purge.PurgePolicy.from_file(path)


def test_status(sealed_ship: Ship):
    ship = sealed_ship
    assert ledger_link.status(ship) is None
    campaign.arrive(ship, operators.get(ship, "coordinador"), campaign.stops(ship)[0].id)
    state = ledger_link.status(ship)
    assert state.entries == state.pending == entries(ship)[-1][0]
    assert state.head_fingerprint.startswith(f"{state.head_seq}:")
    assert state.unread_kinds == ()
