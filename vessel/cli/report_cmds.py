"""`pias report`: figures per stop and station, on screen or as CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ledger.files import atomic_write
from vessel import campaign, reports
from vessel.cli.common import open_ship
from vessel.i18n import t


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="figures per stop and station (waits, service times, no-shows)")
    p.add_argument("--stop", help="one stop: its number in the itinerary or its community name")
    p.add_argument("--csv", nargs="?", const="-", metavar="FILE", help="write CSV to FILE (or stdout)")
    p.set_defaults(func=cmd_report)


COLUMNS = [
    ("stop", 16), ("station", 10), ("issued", 6), ("served", 6), ("missed", 6), ("cancelled", 6),
    ("transferred", 6), ("waiting_now", 6), ("wait_mean_min", 7), ("wait_p90_min", 7),
    ("service_mean_min", 7), ("over_target_pct", 7),
]


def print_table(rows: list[reports.Figures], out=sys.stdout) -> None:
    head = " ".join(t(f"report.col.{name}")[:width].ljust(width) for name, width in COLUMNS)
    print(head, file=out)
    for r in rows:
        cells = []
        for name, width in COLUMNS:
            value = getattr(r, name)
            text = t("report.all") if value == reports.ALL else ("-" if value is None else str(value))
            cells.append(text[:width].ljust(width))
        print(" ".join(cells), file=out)


def cmd_report(args: argparse.Namespace) -> int:
    ship = open_ship(args)
    try:
        stop_id = campaign.find(ship, args.stop).id if args.stop else None
        rows = reports.figures(ship, stop_id)
        if args.csv == "-":
            sys.stdout.write(reports.to_csv(rows))
        elif args.csv:
            atomic_write(Path(args.csv), reports.to_csv(rows).encode("utf-8"))
            print(t("cli.csv_written", path=args.csv, rows=len(rows)))
        else:
            print_table(rows)
    finally:
        ship.close()
    return 0
