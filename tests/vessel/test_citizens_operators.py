"""Citizens (DNI, names in any script, search) and operators (PINs, roles, lockout)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vessel import citizens, operators
from vessel.errors import Refused


def reg(ship, who, **kw):
    base = {"given_names": "Rosa", "surnames": "Grefa Andi"}
    base.update(kw)
    return citizens.register(ship, who, **base)


@pytest.mark.parametrize(
    ("dni", "code"),
    [("1234567", "dni_length"), ("123456789", "dni_length"), ("1234567a", "dni_not_digits"),
     ("００１２３４５６", "dni_not_digits"), ("", "dni_empty"), ("00000000", "dni_zero")],
)
def test_bad_dni(dni, code):
    with pytest.raises(Refused) as err:
        citizens.check_dni(dni)
    assert err.value.code == code
    assert err.value.message()  # a sentence, not the key
    assert not err.value.message().startswith("refusal.")


@given(st.text(max_size=12))
@settings(max_examples=300)
def test_check_dni_accepts_exactly_eight_ascii_digits(text):
    stripped = text.strip().replace(" ", "")
    ok = len(stripped) == 8 and stripped.isascii() and stripped.isdigit() and stripped != "00000000"
    try:
        assert citizens.check_dni(text) == stripped
        assert ok
    except Refused:
        assert not ok


def test_register_and_find_insensitive_to_accents(ship, coordinator, at_stop):
    c = reg(ship, coordinator, given_names="José Ñaupari", surnames="Núñez Ahuanari", dni="45678912",
            birth_date="1950-03-04", sex="M", language="qu")
    assert c.full_name == "José Ñaupari Núñez Ahuanari"
    assert [x.id for x in citizens.find(ship, "nunez jose")] == [c.id]
    assert [x.id for x in citizens.find(ship, "NAUPARI")] == [c.id]
    assert [x.id for x in citizens.find(ship, "4567")] == [c.id]
    assert citizens.find(ship, "Pérez") == []
    # Older adults get the preferential class from their age, from the config.
    assert citizens.priority_class_for(ship, c, ship.now().date()) == "adulto_mayor"


def test_citizen_without_dni_and_in_other_scripts(ship, coordinator, at_stop):
    a = reg(ship, coordinator, given_names="Ñusta", surnames="Mamallacta")
    b = reg(ship, coordinator, given_names="Ngũgĩ", surnames="wa Thiong'o")
    assert a.dni is None and b.dni is None
    assert citizens.find(ship, "ngugi")[0].id == b.id


def test_duplicate_dni_names_the_holder(ship, coordinator, at_stop):
    reg(ship, coordinator, dni="40000001")
    with pytest.raises(Refused) as err:
        reg(ship, coordinator, given_names="Otra", surnames="Persona", dni="40000001")
    assert err.value.code == "dni_taken"
    assert "Rosa Grefa Andi" in err.value.message()


@pytest.mark.parametrize(
    ("kw", "code"),
    [({"given_names": "  "}, "required"), ({"surnames": "12 34"}, "name_no_letters"),
     ({"given_names": "Ro\x07sa"}, "name_bad_chars"), ({"birth_date": "2030-01-01"}, "birth_date_future"),
     ({"birth_date": "04/03/1950"}, "birth_date_format"), ({"sex": "Q"}, "bad_sex"),
     ({"conditions": ["vip"]}, "unknown_condition")],
)
def test_register_refusals_write_nothing(ship, coordinator, at_stop, kw, code):
    before = ship.conn.execute("SELECT count(*) FROM citizens").fetchone()[0]
    with pytest.raises(Refused) as err:
        reg(ship, coordinator, **kw)
    assert err.value.code == code
    assert ship.conn.execute("SELECT count(*) FROM citizens").fetchone()[0] == before


def test_registration_is_recorded_as_an_event(ship, coordinator, at_stop):
    c = reg(ship, coordinator, dni="41234567")
    row = ship.conn.execute(
        "SELECT kind, operator_id, stop_id FROM events WHERE kind = 'citizen.registered'"
    ).fetchone()
    assert row == ("citizen.registered", coordinator.id, at_stop.id)
    assert c.id


def test_login_and_lockout(ship, clock):
    op = operators.login(ship, "salud", "3333")
    assert op.role == "station" and op.station == "salud"
    for _ in range(operators.MAX_FAILED_PINS - 1):
        with pytest.raises(Refused, match="incorrecto"):
            operators.login(ship, "salud", "0000")
    with pytest.raises(Refused) as err:
        operators.login(ship, "salud", "0000")
    assert err.value.code == "locked"
    # Even the right PIN is refused while locked...
    with pytest.raises(Refused) as err:
        operators.login(ship, "salud", "3333")
    assert err.value.code == "locked"
    # ...and accepted after the lock ends.
    clock.advance(minutes=operators.LOCK_MINUTES, seconds=1)
    assert operators.login(ship, "salud", "3333").login == "salud"


def test_unknown_login_looks_like_a_wrong_pin(ship):
    with pytest.raises(Refused) as err:
        operators.login(ship, "nadie", "1234")
    assert err.value.code == "bad_credentials"


def test_pins_are_scrypt_hashes(ship):
    stored = ship.conn.execute("SELECT pin_hash FROM operators WHERE login = 'salud'").fetchone()[0]
    assert stored.startswith("scrypt$") and "3333" not in stored


def test_roles_are_enforced_in_the_domain(ship, at_stop):
    registrar = operators.get(ship, "registro")
    bridge = operators.get(ship, "puente")
    health = operators.get(ship, "salud")
    with pytest.raises(Refused) as err:
        operators.create(ship, registrar, "nuevo", "Nuevo", "registration", "1234")
    assert err.value.code == "not_allowed"
    with pytest.raises(Refused):
        citizens.register(ship, bridge, given_names="A", surnames="B")
    from vessel import tickets

    tickets.issue(ship, registrar, ["salud"])
    with pytest.raises(Refused):
        tickets.open_desk(ship, health, "banco-1")
    assert tickets.open_desk(ship, health, "salud-1").state == "open"


def test_create_operator_checks(ship, coordinator):
    with pytest.raises(Refused, match="4 a 8"):
        operators.create(ship, coordinator, "ana", "Ana", "registration", "12")
    with pytest.raises(Refused) as err:
        operators.create(ship, coordinator, "ana", "Ana", "station", "1234", station="dentista")
    assert err.value.code == "unknown_station"
    operators.create(ship, coordinator, "Ana", "Ana Ríos", "station", "123456", station="banco")
    with pytest.raises(Refused) as err:
        operators.create(ship, coordinator, "ana", "Ana", "registration", "1234")
    assert err.value.code == "login_taken"
    assert operators.login(ship, "ANA", "123456").station == "banco"


def test_lock_survives_other_logins(ship, clock):
    for _ in range(operators.MAX_FAILED_PINS):
        with pytest.raises(Refused):
            operators.login(ship, "banco", "9999")
    assert operators.login(ship, "salud", "3333")
    clock.advance(minutes=1)
    with pytest.raises(Refused) as err:
        operators.login(ship, "banco", "4444")
    assert err.value.code == "locked"
    clock.advance(seconds=timedelta(minutes=operators.LOCK_MINUTES).total_seconds())
    assert operators.login(ship, "banco", "4444")
