"""The ``flagkit`` command line: validate, eval, simulate, diff, lint, convert, schema, guard.

Each command lives in its own module with a ``register`` function that adds
its sub-parser and handler. Exit codes are a contract other tools script
against (``docs/cli.md``): 0 success; 1 an invalid flag file, or lint errors;
2 a usage error; 3 an evaluation that resolved with an error (the details are
still printed); 4 ``diff --fail-above`` exceeded; 5 ``lint --strict`` found
warnings; 6 ``convert`` left some flags out (each is explained).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from flagkit._cli import convert, core, diff, guard, lint, simulate
from flagkit._cli.common import EXIT_USAGE, CommandError

__all__ = ["build_parser", "main", "run"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``flagkit`` command."""
    parser = _Parser(
        prog="flagkit",
        description="Validate, evaluate, simulate, diff, lint and convert feature-flag files.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for module in (core, simulate, diff, lint, convert, guard):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except CommandError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return exc.exit_code
    return code


def run() -> NoReturn:
    """Entry point of the console script."""
    sys.exit(main())
