"""`pias simulate-campaign`: a compressed campaign with every part working, checked at the end."""

from __future__ import annotations

import argparse
from pathlib import Path

from vessel.campaign_sim import FAULTS, Campaign, SimParams, SimulationFailed
from vessel.cli import CommandFailed


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate-campaign",
        help="run a compressed campaign on a throw-away ship: GPS, crowds, desks, offload, ingest; then check it",
    )
    p.add_argument("--stops", type=int, default=3, help="how many of the demo itinerary's stops (default 3)")
    p.add_argument("--days", type=int, default=3, help="campaign days, shared among the stops (default 3)")
    p.add_argument("--citizens", type=int, default=40, help="citizens per stop (default 40)")
    p.add_argument("--desks", type=int, default=2, help="desks per station, each its own process (default 2)")
    p.add_argument("--speed", type=float, default=400.0, help="simulated speed, knots (default 400: compressed)")
    p.add_argument("--rate", type=float, default=50.0, help="GPS bursts per second of wall time (default 50)")
    p.add_argument("--fault", action="append", choices=[*FAULTS, "all"], default=[],
                   help="inject a fault (repeatable): " + ", ".join(FAULTS))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", type=Path, metavar="DIR", help="run in DIR (must not exist) and keep it afterwards")
    p.set_defaults(func=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> int:
    faults = frozenset(FAULTS) if "all" in args.fault else frozenset(args.fault)
    if args.stops < 1 or args.citizens < 1 or args.desks < 1 or args.days < 1:
        raise CommandFailed("stops, days, citizens and desks must each be at least 1")
    params = SimParams(stops=args.stops, days=args.days, citizens_per_stop=args.citizens, desks=args.desks,
                       speed_kn=args.speed, rate_hz=args.rate, faults=faults, seed=args.seed, home=args.keep)
    campaign = Campaign(params, say=lambda line: print(line, flush=True))
    print(f"Campaña simulada en {campaign.home.path}", flush=True)
    try:
        summary = campaign.run()
    except SimulationFailed as exc:
        raise CommandFailed(f"simulated campaign failed: {exc} (folder kept: {campaign.root})") from None
    print()
    print(f"Paradas: {', '.join(summary.stops)}")
    print(f"Ciudadanos {summary.citizens}, turnos {summary.tickets}, puntos de derrota {summary.track_points}, "
          f"eventos {summary.events}, paquetes {summary.bundle_bytes / 1e6:.2f} MB")
    print("Pasos: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.steps.items())))
    for fault in summary.faults:
        print(f"Falla inyectada: {fault}")
    print("Tiempos: " + ", ".join(f"{k} {v}" for k, v in summary.timings.items()))
    for check in summary.checks:
        print(f"[{'OK' if check.ok else 'FALLA'}] {check.name}: {check.detail}")
    if summary.ok and args.keep is None:
        campaign.cleanup()
    if not summary.ok:
        raise CommandFailed(f"simulated campaign: a check failed (folder kept: {campaign.root})")
    return 0
