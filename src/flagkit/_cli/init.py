"""``flagkit init``: write a starter flag file (the shipped example) into a directory."""

from __future__ import annotations

import argparse
import os
from importlib import resources
from typing import Any

from flagkit._cli.common import EXIT_INVALID, EXIT_OK, CommandError

__all__ = ["STARTERS", "register", "starter_text"]

#: The starter files, by format: the examples shipped inside the package.
STARTERS = {"native": "flags.yaml", "flagd": "flagd.json", "unleash": "unleash.json"}


def starter_text(fmt: str = "native") -> str:
    """Return the text of the starter flag file of ``fmt`` (``native``, ``flagd``, ``unleash``)."""
    return resources.files("flagkit").joinpath("examples", STARTERS[fmt]).read_text("utf-8")


def register(commands: Any) -> None:
    """Add the init sub-command."""
    parser = commands.add_parser(
        "init", help="write a starter flag file (flags.yaml) into a directory"
    )
    parser.add_argument(
        "directory",
        nargs="?",
        default=".",
        metavar="DIR",
        help="where to write it (default: the current directory)",
    )
    parser.add_argument(
        "--format",
        choices=list(STARTERS),
        default="native",
        help="native flagkit flags (flags.yaml), a flagd document (flagd.json), "
        "or an Unleash client API document (unleash.json)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(handler=_init)


def _init(args: argparse.Namespace) -> int:
    name = STARTERS[args.format]
    path = os.path.join(args.directory, name)
    try:
        with open(path, "w" if args.force else "x", encoding="utf-8") as handle:
            handle.write(starter_text(args.format))
    except FileExistsError:
        raise CommandError(
            EXIT_INVALID, [f"flagkit: {path} exists; pass --force to overwrite it"]
        ) from None
    except OSError as exc:
        raise CommandError(
            EXIT_INVALID, [f"flagkit: cannot write {path}: {exc.strerror or exc}"]
        ) from exc
    flag = {"native": "pricing-test", "flagd": "new-checkout", "unleash": "new-checkout"}[
        args.format
    ]
    fmt = "" if args.format == "native" else f" --format {args.format}"
    print(f"wrote {path}")
    print(f"try:  flagkit eval {path} {flag} -k user-1{fmt} --explain")
    return EXIT_OK
