"""The `pias` command: the composition root that builds ships and runs subcommands.

Each subcommand lives in its own module under vessel/cli/ with a
`register(subparsers)` function; this module only assembles them and turns
refusals into one clear line on stderr. Exit status: 0 done, 1 refused or
failed, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from vessel import i18n
from vessel.config import ConfigError
from vessel.errors import Refused
from vessel.store import StoreError

# One module per command group; each adds its own subcommands. The map lets a
# command load only its own module: a terminal's first screen should not wait
# for the GPS, ledger and simulation code to be imported.
COMMANDS = {
    "init": "vessel.cli.setup_cmds",
    "demo": "vessel.cli.setup_cmds",
    "report": "vessel.cli.report_cmds",
    "operator": "vessel.cli.admin_cmds",
    "stop": "vessel.cli.admin_cmds",
    "backup": "vessel.cli.backup_cmds",
    "restore": "vessel.cli.backup_cmds",
    "gps": "vessel.cli.gps_cmds",
    "gps-sim": "vessel.cli.gps_cmds",
    "track": "vessel.cli.gps_cmds",
    "tui": "vessel.cli.tui_cmds",
    "display": "vessel.cli.tui_cmds",
    "keys": "vessel.cli.ledger_cmds",
    "ledger": "vessel.cli.ledger_cmds",
    "offload": "vessel.cli.ledger_cmds",
    "ingest": "vessel.cli.ledger_cmds",
    "receive": "vessel.cli.ledger_cmds",
    "simulate-campaign": "vessel.cli.simulate_cmds",
}
COMMAND_MODULES = list(dict.fromkeys(COMMANDS.values()))
DEFAULT_COMMAND = "tui"
_GLOBAL_WITH_VALUE = ("--home", "--lang")


class CommandFailed(Exception):
    """A command that could not do its job; the message is shown as it is."""


def build_parser(modules: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pias",
        description="PIAS Vessel: queues, GPS track log and ledger of a PIAS river ship.",
    )
    parser.add_argument("--home", help="the ship's home folder (default: $PIAS_HOME or ~/.local/share/pias)")
    parser.add_argument("--lang", choices=["es", "en"], help="language of messages (default: the ship's)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules or COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _command_of(argv: Sequence[str]) -> tuple[str | None, bool]:
    """The subcommand named in argv (None if none), and whether argv asks for the top-level help."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in _GLOBAL_WITH_VALUE:
            skip = True
            continue
        if arg.startswith("-"):
            if arg in ("-h", "--help"):
                return None, True
            continue
        return arg, False
    return None, False


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command, wants_help = _command_of(argv)
    if command is None and not wants_help:
        argv.append(DEFAULT_COMMAND)  # `pias` alone opens the staff terminal
        command = DEFAULT_COMMAND
    module = COMMANDS.get(command or "")
    parser = build_parser([module] if module else None)
    args = parser.parse_args(argv)
    if args.lang:
        i18n.set_language(args.lang)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (Refused, ConfigError, StoreError, CommandFailed) as exc:
        print(f"pias: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `pias report | head`): not an error worth a traceback.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
