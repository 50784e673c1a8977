"""The ``flagkit`` command line: validate, eval and schema.

Exit codes are a contract other tools script against:
0 success; 1 an invalid flag file; 2 a usage error; 3 an evaluation that
resolved with an error (the details are still printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn, TextIO

from flagkit._client import Client
from flagkit._details import Details
from flagkit._errors import DefinitionError, FlagkitError
from flagkit._loader import read_file, validate_document
from flagkit._schema import json_schema
from flagkit._timeutil import timestamp_of

__all__ = ["main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_EVAL_ERROR = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``flagkit`` command."""
    parser = _Parser(prog="flagkit", description="Validate and evaluate feature-flag files.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    validate = commands.add_parser("validate", help="check flag files; report every problem")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--format", choices=["json", "toml", "yaml"])

    evaluate = commands.add_parser("eval", help="evaluate one flag for a context")
    evaluate.add_argument("file", metavar="FILE")
    evaluate.add_argument("flag", metavar="FLAG")
    evaluate.add_argument(
        "--context",
        "-c",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a context attribute (dotted keys nest; JSON values are parsed)",
    )
    evaluate.add_argument("--targeting-key", "-k", metavar="KEY")
    evaluate.add_argument("--contexts", metavar="FILE.jsonl", help="one JSON context per line")
    evaluate.add_argument("--at", metavar="TIME", help="evaluate at this ISO 8601 time")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.add_argument("--format", choices=["json", "toml", "yaml"])

    commands.add_parser("schema", help="print the JSON Schema of the flag format")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return its exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return _validate(args.files, args.format)
    if args.command == "eval":
        return _eval(args)
    json.dump(json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


def _validate(files: Sequence[str], fmt: Any) -> int:
    status = EXIT_OK
    for path in files:
        try:
            document = validate_document(read_file(path, fmt), source=path)
        except DefinitionError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            status = EXIT_INVALID
        except FlagkitError as exc:
            print(exc, file=sys.stderr)
            status = EXIT_INVALID
        else:
            print(f"{path}: ok ({len(document.flags)} flags, {len(document.segments)} segments)")
    return status


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _context_from(pairs: Sequence[str], targeting_key: str | None) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise _UsageError(f"--context expects KEY=VALUE, got {pair!r}")
        *parents, leaf = key.split(".")
        node = context
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise _UsageError(f"--context {key!r} conflicts with an earlier value")
        node[leaf] = _parse_value(value)
    if targeting_key is not None:
        context["targetingKey"] = targeting_key
    return context


class _UsageError(Exception):
    pass


def _eval(args: argparse.Namespace) -> int:
    clock = None
    if args.at is not None:
        instant = timestamp_of(args.at)
        if instant is None:
            return _usage(f"--at expects an ISO 8601 time, got {args.at!r}")
        clock = lambda: instant  # noqa: E731
    try:
        context = _context_from(args.context, args.targeting_key)
    except _UsageError as exc:
        return _usage(str(exc))
    try:
        client = Client.from_file(args.file, format=args.format, clock=clock)
    except DefinitionError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except FlagkitError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    if args.contexts is not None:
        return _eval_batch(client, args.flag, args.contexts, context)
    details = client.get_details(args.flag, None, context)
    if args.json:
        print(json.dumps(details.to_dict(), default=str))
    else:
        _print_details(details, sys.stdout)
    return EXIT_EVAL_ERROR if details.is_error else EXIT_OK


def _eval_batch(client: Client, flag: str, path: str, base: dict[str, Any]) -> int:
    status = EXIT_OK
    try:
        lines = _read_lines(path)
        for number, line in enumerate(lines, 1):
            try:
                parsed = json.loads(line)
            except ValueError as exc:
                parsed = exc
            if not isinstance(parsed, dict):
                row = {
                    "line": number,
                    "value": None,
                    "variant": None,
                    "reason": "ERROR",
                    "error_code": "PARSE_ERROR",
                    "error_message": "not a JSON object",
                }
                status = EXIT_EVAL_ERROR
            else:
                details = client.get_details(flag, None, {**base, **parsed})
                row = {
                    "line": number,
                    "targetingKey": parsed.get("targetingKey"),
                    **details.to_dict(),
                }
                if details.is_error:
                    status = EXIT_EVAL_ERROR
            print(json.dumps(row, default=str))
    except OSError as exc:
        return _usage(f"cannot read {path}: {exc.strerror or exc}")
    return status


def _read_lines(path: str) -> Iterator[str]:
    handle: TextIO
    with sys.stdin if path == "-" else open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield line


def _print_details(details: Details, out: TextIO) -> None:
    rows = [
        ("flag", details.flag_key),
        ("value", json.dumps(details.value, default=str)),
        ("variant", details.variant or "-"),
        ("reason", details.reason.value),
    ]
    if details.rule is not None:
        rows.append(("rule", details.rule))
    if details.bucket is not None:
        rows.append(("bucket", f"{details.bucket} of 10000"))
    if details.error_code is not None:
        rows.append(("error", f"{details.error_code.value}: {details.error_message}"))
    for name, value in rows:
        out.write(f"{name + ':':9}{value}\n")


def _usage(message: str) -> int:
    print(f"flagkit: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run() -> NoReturn:
    """Entry point of the console script."""
    sys.exit(main())
