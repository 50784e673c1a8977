"""The ``flagkit`` command line: init, validate, eval (--explain), simulate, diff, lint,
convert, generate, schema, guard.

Each command lives in its own module with a ``register`` function that adds
its sub-parser and handler. Exit codes are a contract other tools script
against (``docs/cli.md``): 0 success; 1 an invalid flag file, or lint errors;
2 a usage error; 3 an evaluation that resolved with an error (the details are
still printed); 4 ``diff --fail-above`` exceeded; 5 ``lint --strict`` found
warnings; 6 ``convert`` left some flags out (each is explained).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from flagkit._cli.common import EXIT_OK, EXIT_USAGE, CommandError
from flagkit._version import VERSION

__all__ = ["build_parser", "main", "run"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


#: Each command, and the module (``flagkit._cli.<module>``) that registers it, in help order.
#: A run imports only its command's module: ``flagkit eval`` does not pay for ``convert``.
COMMANDS = {
    "init": "init",
    "validate": "core",
    "eval": "core",
    "schema": "core",
    "simulate": "simulate",
    "diff": "diff",
    "lint": "lint",
    "convert": "convert",
    "generate": "generate",
    "guard": "guard",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser of the ``flagkit`` command (of one ``command``, if known)."""
    parser = _Parser(
        prog="flagkit",
        description="Validate, evaluate, simulate, diff, lint and convert feature-flag files.",
        epilog="Start with `flagkit init`, then `flagkit eval flags.yaml pricing-test -k user-1`.",
    )
    parser.add_argument("--version", action="version", version=f"flagkit {VERSION}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    wanted = [COMMANDS[command]] if command in COMMANDS else dict.fromkeys(COMMANDS.values())
    for name in wanted:
        importlib.import_module(f"flagkit._cli.{name}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return its exit code (a bare ``flagkit`` prints the help)."""
    _quiet_library_log()
    arguments = sys.argv[1:] if argv is None else list(argv)
    # The first word that is not an option names the command (the top level has no
    # option taking a value); anything else builds the whole parser, for help or errors.
    command = next((a for a in arguments if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        code: int = args.handler(args)
    except CommandError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return exc.exit_code
    return code


def _quiet_library_log() -> None:
    """Keep the library's own warnings (e.g. an evaluation error) off the terminal.

    The commands print what went wrong themselves; without a handler of
    its own, the ``flagkit`` logger's warnings would reach stderr a second
    time through logging's last-resort handler.
    """
    library = logging.getLogger("flagkit")
    if not any(isinstance(h, logging.NullHandler) for h in library.handlers):
        library.addHandler(logging.NullHandler())


def run() -> NoReturn:
    """Entry point of the console script."""
    sys.exit(main())
