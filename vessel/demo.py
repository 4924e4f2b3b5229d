"""A realistic day at one stop, played through the same domain functions the desks use.

Citizens arrive through the morning, are registered (some without a DNI),
get tickets for one to three services, and are called, served, referred or
missed by every desk of every station. Time is simulated with a FixedClock,
so a full day takes seconds; the day ends at the clock's "now" with some
citizens still waiting, as a real afternoon would.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vessel import campaign, citizens, operators, tickets
from vessel.clock import FixedClock
from vessel.errors import Refused
from vessel.ship import Ship

GIVEN_F = ["María", "Rosa", "Juana", "Lucía", "Marleni", "Nélida", "Ruth", "Sara", "Olga", "Yésica",
           "Flor de María", "Zoila", "Teresa", "Gladys", "Ángela", "Milagros", "Noemí", "Rocío"]
GIVEN_M = ["José", "Juan", "Luis", "Segundo", "Wílder", "Ítalo", "Jhon", "Rómulo", "Héctor", "Elías",
           "Víctor", "Nilo", "Abel", "Gerardo", "Raúl", "César", "Édgar", "Ñaupari"]
SURNAMES = ["Grefa", "Shiguango", "Andi", "Tapullima", "Coquinche", "Mamallacta", "Cerda", "Huatatoca",
            "Yumbo", "Ríos", "Vásquez", "Panduro", "Pérez", "Tanchiva", "Ahuanari", "Macanilla",
            "Ñuflo", "Sánchez", "Dahua", "Pacaya", "Curitima", "Arimuya", "Siquihua", "Tangoa"]
LANGUAGES = ["es", "es", "es", "qu", "es", "maj", "sec"]
# Relative demand, mean service minutes, and how often a desk refers onwards.
STATION_PROFILE = {
    "salud": (10, 9.0, 0.08),
    "reniec": (6, 7.0, 0.0),
    "banco": (5, 4.0, 0.0),
    "programas": (6, 6.0, 0.04),
    "mujer": (2, 14.0, 0.1),
}
REFERRALS = {"salud": "programas", "programas": "reniec", "mujer": "salud"}


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    kind: str = field(compare=False)
    data: object = field(compare=False, default=None)


def random_person(rng: random.Random, today: datetime) -> dict:
    sex = rng.choice("FM")
    given = rng.choice(GIVEN_F if sex == "F" else GIVEN_M)
    if rng.random() < 0.3:
        given += " " + rng.choice(GIVEN_F if sex == "F" else GIVEN_M)
    age = int(min(95, max(0, rng.gauss(34, 20))))
    born = (today - timedelta(days=365.25 * age + rng.randint(0, 364))).date()
    conditions = []
    if sex == "F" and 16 <= age <= 42 and rng.random() < 0.12:
        conditions.append("gestante")
    if rng.random() < 0.04:
        conditions.append("discapacidad")
    if 18 <= age <= 45 and rng.random() < 0.08:
        conditions.append("con_infante")
    has_dni = rng.random() < (0.2 if age < 5 else 0.75)
    return {
        "given_names": given,
        "surnames": f"{rng.choice(SURNAMES)} {rng.choice(SURNAMES)}",
        "dni": f"{rng.randint(40000000, 79999999)}" if has_dni else None,
        "birth_date": born,
        "sex": sex,
        "language": rng.choice(LANGUAGES),
        "conditions": conditions,
    }


@dataclass
class DemoSummary:
    community: str
    citizens: int
    tickets: int
    served: int
    missed: int
    referred: int
    still_waiting: int


def run_day(
    ship: Ship, *, citizens_count: int = 150, seed: int = 7, end: datetime | None = None,
    stop_seq: int = 1, hours: float = 7.5,
) -> DemoSummary:
    """Simulate one day at a stop ending at `end` (default: now). The ship's clock is replaced."""
    rng = random.Random(seed)
    end = end or ship.now()
    start = end - timedelta(hours=hours)
    clock = FixedClock(start)
    real_clock, ship.clock = ship.clock, clock
    try:
        return _simulate(ship, rng, clock, start, end, citizens_count, stop_seq)
    finally:
        ship.clock = real_clock


def _simulate(
    ship: Ship, rng: random.Random, clock: FixedClock, start: datetime, end: datetime, n: int, stop_seq: int
) -> DemoSummary:
    coordinator = operators.get(ship, "coordinador")
    registrar = operators.get(ship, "registro")
    stop = next(s for s in campaign.stops(ship) if s.seq == stop_seq)
    if campaign.current(ship) is None:
        campaign.arrive(ship, coordinator, stop.id)
    stop = campaign.current(ship)
    station_ops = {}
    for station in stop.stations:
        try:
            station_ops[station] = operators.get(ship, station)
        except Refused:
            station_ops[station] = coordinator
    queue: list[_Event] = []
    counter = 0

    def push(at: datetime, kind: str, data: object = None) -> None:
        nonlocal counter
        counter += 1
        heapq.heappush(queue, _Event(at, counter, kind, data))

    # Desks open a little after arrival; citizens come in a morning wave and a smaller afternoon one.
    for station in stop.stations:
        for desk in tickets.desks(ship, station):
            push(start + timedelta(minutes=rng.uniform(10, 25)), "open", desk.code)
    for _ in range(n):
        wave = rng.random() < 0.75
        offset = rng.uniform(0, 0.55) if wave else rng.uniform(0.55, 0.99)
        push(start + (end - start) * offset, "arrive")

    weights = [STATION_PROFILE.get(s, (3, 8.0, 0.0))[0] for s in stop.stations]
    summary = {"served": 0, "missed": 0, "referred": 0, "tickets": 0}
    absent: set[int] = set()
    while queue and queue[0].at <= end:
        ev = heapq.heappop(queue)
        clock.moment = max(clock.moment, ev.at)
        if ev.kind == "arrive":
            person = random_person(rng, clock.moment)
            try:
                c = citizens.register(ship, registrar, **person)
            except Refused:  # the same DNI drawn twice: the second person registers without one
                person["dni"] = None
                c = citizens.register(ship, registrar, **person)
            k = 1 + (rng.random() < 0.45) + (rng.random() < 0.15)
            chosen: list[str] = []
            while len(chosen) < min(k, len(stop.stations)):
                pick = rng.choices(stop.stations, weights)[0]
                if pick not in chosen:
                    chosen.append(pick)
            t = tickets.issue(ship, registrar, chosen, citizen_id=c.id)
            summary["tickets"] += 1
            if rng.random() < 0.06:
                absent.add(t.id)
        elif ev.kind == "open":
            desk = tickets.get_desk(ship, ev.data)
            tickets.open_desk(ship, station_ops[desk.station], desk.code)
            push(clock.moment, "free", desk.code)
        elif ev.kind == "free":
            desk = tickets.get_desk(ship, ev.data)
            op = station_ops[desk.station]
            try:
                step = tickets.call_next(ship, op, desk.code)
            except Refused:
                push(clock.moment + timedelta(minutes=rng.uniform(1, 3)), "free", desk.code)
                continue
            if step.ticket_id in absent:
                push(clock.moment + timedelta(seconds=ship.config.queue.recall_gap_seconds + 5), "recall", desk.code)
            else:
                push(clock.moment + timedelta(seconds=rng.uniform(20, 90)), "start", desk.code)
        elif ev.kind == "recall":
            desk = tickets.get_desk(ship, ev.data)
            op = station_ops[desk.station]
            step = tickets.current_at_desk(ship, desk.code)
            if step.call_count < ship.config.queue.missed_after_calls:
                tickets.recall(ship, op, desk.code)
                push(clock.moment + timedelta(seconds=ship.config.queue.recall_gap_seconds + 5), "recall", desk.code)
            else:
                tickets.missed(ship, op, desk.code)
                summary["missed"] += 1
                push(clock.moment + timedelta(seconds=30), "free", desk.code)
        elif ev.kind == "start":
            desk = tickets.get_desk(ship, ev.data)
            op = station_ops[desk.station]
            tickets.start(ship, op, desk.code)
            mean = STATION_PROFILE.get(desk.station, (3, 8.0, 0.0))[1]
            push(clock.moment + timedelta(minutes=rng.lognormvariate(0, 0.45) * mean), "finish", desk.code)
        elif ev.kind == "finish":
            desk = tickets.get_desk(ship, ev.data)
            op = station_ops[desk.station]
            refer_p = STATION_PROFILE.get(desk.station, (3, 8.0, 0.0))[2]
            target = REFERRALS.get(desk.station)
            step = tickets.current_at_desk(ship, desk.code)
            referred = False
            if target in stop.stations and rng.random() < refer_p:
                try:
                    tickets.transfer(ship, op, desk.code, target, "Derivado tras la atención")
                    referred = True
                    summary["referred"] += 1
                except Refused:
                    referred = False
            if not referred:
                tickets.finish(ship, op, desk.code, "served", "")
                summary["served"] += 1
            del step
            push(clock.moment + timedelta(seconds=rng.uniform(15, 60)), "free", desk.code)
    clock.moment = end
    waiting = ship.conn.execute(
        "SELECT count(*) FROM steps s JOIN tickets t ON t.id = s.ticket_id "
        "WHERE t.stop_id = ? AND s.state = 'waiting'",
        (stop.id,),
    ).fetchone()[0]
    n_citizens = ship.conn.execute("SELECT count(*) FROM citizens WHERE stop_id = ?", (stop.id,)).fetchone()[0]
    return DemoSummary(
        community=stop.community, citizens=n_citizens, tickets=summary["tickets"],
        served=summary["served"], missed=summary["missed"], referred=summary["referred"],
        still_waiting=waiting,
    )
