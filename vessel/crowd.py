"""Crowds and desks that run by themselves: the people of a simulated campaign.

Each function here is what one terminal's operator would do all day, played
through the domain functions at compressed time: the registration desk
registering a crowd and issuing tickets, a station desk calling, serving,
referring or marking no-shows. `pias simulate-campaign` runs each in its own
process, so several desks race on the database exactly as real terminals do.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from vessel import campaign, citizens, demo, operators, tickets
from vessel.errors import Refused
from vessel.ship import Ship


@dataclass(frozen=True)
class CrowdResult:
    citizens: int
    tickets: int


def register_crowd(ship: Ship, actor: operators.Actor, count: int, seed: int, pace_s: float = 0.0) -> CrowdResult:
    """Register `count` citizens at the current stop and issue each a ticket for 1 to 3 of its services."""
    rng = random.Random(seed)
    stop = campaign.require_current(ship)
    weights = [demo.STATION_PROFILE.get(s, (3, 8.0, 0.0))[0] for s in stop.stations]
    issued = 0
    for _ in range(count):
        person = demo.random_person(rng, ship.now())
        if person["dni"] and citizens.by_dni(ship, person["dni"]) is not None:
            person["dni"] = None
        c = citizens.register(ship, actor, **person)
        k = min(len(stop.stations), 1 + (rng.random() < 0.45) + (rng.random() < 0.15))
        chosen: list[str] = []
        while len(chosen) < k:
            pick = rng.choices(stop.stations, weights)[0]
            if pick not in chosen:
                chosen.append(pick)
        tickets.issue(ship, actor, chosen, citizen_id=c.id)
        issued += 1
        if pace_s:
            time.sleep(pace_s)
    return CrowdResult(count, issued)


@dataclass
class DeskTally:
    served: int = 0
    missed: int = 0
    referred: int = 0


def serve_desk(
    ship: Ship,
    actor: operators.Actor,
    desk: str,
    *,
    seed: int,
    should_stop: Callable[[], bool],
    no_show: float = 0.05,
    service_s: float = 0.01,
    idle_s: float = 0.02,
) -> DeskTally:
    """Work one desk until told to stop and nothing is left for it.

    A desk restarted after a crash picks up the ticket it had at the desk, as an
    operator would after rebooting the terminal.
    """
    rng = random.Random(seed)
    rules = ship.config.queue
    tally = DeskTally()
    tickets.open_desk(ship, actor, desk)
    station = tickets.get_desk(ship, desk).station
    refer_to = demo.REFERRALS.get(station)
    refer_p = demo.STATION_PROFILE.get(station, (3, 8.0, 0.0))[2]
    while True:
        step = tickets.current_at_desk(ship, desk)
        if step is None:
            try:
                step = tickets.call_next(ship, actor, desk)
            except Refused as exc:
                if exc.code not in ("queue_empty", "no_current_stop"):
                    raise
                if should_stop():
                    return tally
                time.sleep(idle_s)
                continue
        absent = rng.random() < no_show
        if step.state == "called" and absent:
            while step.call_count < rules.missed_after_calls:
                time.sleep(rules.recall_gap_seconds)
                step = tickets.recall(ship, actor, desk)
            tickets.missed(ship, actor, desk)
            tally.missed += 1
            continue
        if step.state == "called":
            tickets.start(ship, actor, desk)
        time.sleep(service_s * rng.uniform(0.5, 1.5))
        stop = campaign.current(ship)
        if refer_to and stop is not None and refer_to in stop.stations and rng.random() < refer_p:
            try:
                tickets.transfer(ship, actor, desk, refer_to, "Derivación")
                tally.referred += 1
                continue
            except Refused as exc:
                if exc.code != "already_in_route":
                    raise
        tickets.finish(ship, actor, desk, "served")
        tally.served += 1
