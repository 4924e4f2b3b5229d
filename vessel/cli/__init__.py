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

# One module per command group; each adds its own subcommands.
COMMAND_MODULES = [
    "vessel.cli.setup_cmds",
    "vessel.cli.report_cmds",
    "vessel.cli.admin_cmds",
    "vessel.cli.backup_cmds",
    "vessel.cli.gps_cmds",
    "vessel.cli.tui_cmds",
    "vessel.cli.ledger_cmds",
    "vessel.cli.simulate_cmds",
]


class CommandFailed(Exception):
    """A command that could not do its job; the message is shown as it is."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pias",
        description="PIAS Vessel: queues, GPS track log and ledger of a PIAS river ship.",
    )
    parser.add_argument("--home", help="the ship's home folder (default: $PIAS_HOME or ~/.local/share/pias)")
    parser.add_argument("--lang", choices=["es", "en"], help="language of messages (default: the ship's)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lang:
        i18n.set_language(args.lang)
    if args.command is None:
        args = parser.parse_args([*(argv or sys.argv[1:]), "tui"]) if _has("tui", parser) else args
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


def _has(command: str, parser: argparse.ArgumentParser) -> bool:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return command in action.choices
    return False


if __name__ == "__main__":
    sys.exit(main())
