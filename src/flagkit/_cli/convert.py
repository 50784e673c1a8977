"""``flagkit convert``: turn a flagd or Unleash document into the native format.

It says what did not fit: exit 0 only when every flag converted exactly.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from flagkit._cli.common import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL, CommandError, usage_error
from flagkit._cli.output import print_json
from flagkit._definitions.parse import read_file, syntax_of
from flagkit._errors import DefinitionError, FlagkitError
from flagkit.formats.flagd._convert import convert_flagd
from flagkit.formats.flagd._snapshot import looks_like_flagd
from flagkit.formats.unleash._convert import convert_unleash
from flagkit.formats.unleash._snapshot import looks_like_unleash

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the convert sub-command."""
    convert = commands.add_parser(
        "convert",
        help="convert a flagd or Unleash flag file to the native format, explaining what cannot be",
    )
    convert.add_argument(
        "file", metavar="FILE", help="a flagd flag-definition or Unleash client API document"
    )
    convert.add_argument(
        "--to", choices=["native"], default="native", help="the target format (native)"
    )
    convert.add_argument(
        "--output",
        "-o",
        metavar="OUT",
        help="write here (.json, .yaml or .yml) instead of printing JSON to stdout",
    )
    convert.add_argument("--syntax", choices=["json", "toml", "yaml"], help="FILE's syntax")
    convert.add_argument(
        "--json",
        action="store_true",
        help="print one JSON report (the document unless --output, flags, problems, notes)",
    )
    convert.set_defaults(handler=_convert)


def _convert(args: argparse.Namespace) -> int:
    try:
        raw = read_file(args.file, args.syntax)
        if looks_like_unleash(raw):
            conversion = convert_unleash(raw, source=args.file)
        elif looks_like_flagd(raw):
            conversion = convert_flagd(raw, source=args.file)
        else:
            raise usage_error(f"{args.file} looks like neither a flagd nor an Unleash document")
    except DefinitionError as exc:
        raise CommandError(EXIT_INVALID, [str(p) for p in exc.problems]) from exc
    except FlagkitError as exc:
        raise CommandError(EXIT_INVALID, [str(exc)]) from exc
    if args.output is not None:
        Path(args.output).write_text(_render(conversion.document, args.output), encoding="utf-8")
    if args.json:
        print_json(
            {
                "file": args.file,
                "output": args.output,
                "exact": conversion.exact,
                "converted": conversion.converted,
                "problems": conversion.problems,
                "inexact": conversion.inexact,
                "notes": conversion.notes,
                "document": conversion.document if args.output is None else None,
            },
            sys.stdout,
        )
    else:
        if args.output is None:
            sys.stdout.write(_render(conversion.document, None))
        for note in conversion.notes:
            print(f"{args.file}: note: {note}", file=sys.stderr)
        for problem in conversion.problems:
            print(f"{args.file}: cannot convert: {problem}", file=sys.stderr)
        total = len(conversion.converted) + len(conversion.problems)
        print(
            f"{args.file}: converted {len(conversion.converted)} of {total} flags"
            + ("" if not conversion.inexact else f", {len(conversion.inexact)} approximately"),
            file=sys.stderr,
        )
    # 0 only when the native file serves what the source format serves for every context.
    return EXIT_OK if conversion.exact else EXIT_PARTIAL


def _render(document: dict[str, Any], output: str | None) -> str:
    if output is not None and syntax_of(output) == "yaml":
        import yaml

        return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    if output is not None and syntax_of(output) != "json":
        raise usage_error("--output must end in .json, .yaml or .yml")
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
