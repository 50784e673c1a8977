"""The core commands: validate, eval (with --explain) and schema."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from flagkit._cli.common import (
    EXIT_EVAL_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    CommandError,
    add_format_option,
    clock_at,
    context_from,
    load_document,
    load_snapshot,
    read_contexts,
    usage_error,
)
from flagkit._cli.explain import render_explanation
from flagkit._cli.output import print_json, to_json
from flagkit._client.client import Client
from flagkit._core.compile import compile_document
from flagkit._core.details import Details, ErrorCode
from flagkit._core.explain import explain
from flagkit._definitions.schema import json_schema

__all__ = ["HINTS", "register"]

#: What to do about an error, said under it (only where the fix is on the command line).
HINTS = {
    ErrorCode.TARGETING_KEY_MISSING: (
        "this flag buckets users: pass one with -k/--targeting-key KEY "
        "(or --context targetingKey=KEY)"
    ),
}


def register(commands: Any) -> None:
    """Add the validate, eval and schema sub-commands."""
    validate = commands.add_parser("validate", help="check flag files; report every problem")
    validate.add_argument(
        "files", nargs="+", metavar="FILE", help="flag files (JSON, TOML or YAML, by suffix)"
    )
    add_format_option(validate)
    validate.add_argument("--json", action="store_true", help="print JSON")
    validate.set_defaults(handler=_validate)

    evaluate = commands.add_parser("eval", help="evaluate one flag for a context")
    evaluate.add_argument("file", metavar="FILE", help="the flag file")
    evaluate.add_argument("flag", metavar="FLAG", help="the key of the flag to evaluate")
    evaluate.add_argument(
        "--context",
        "-c",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a context attribute (dotted keys nest; JSON values are parsed)",
    )
    evaluate.add_argument(
        "--targeting-key", "-k", metavar="KEY", help="the context's targetingKey (who is asking)"
    )
    evaluate.add_argument("--contexts", metavar="FILE.jsonl", help="one JSON context per line")
    evaluate.add_argument("--at", metavar="TIME", help="evaluate at this ISO 8601 time")
    evaluate.add_argument(
        "--explain", action="store_true", help="trace every rule, condition and bucket"
    )
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    add_format_option(evaluate)
    evaluate.set_defaults(handler=_eval)

    schema = commands.add_parser("schema", help="print the JSON Schema of the flag format")
    schema.add_argument("--json", action="store_true", help="accepted for symmetry: always JSON")
    schema.set_defaults(handler=_schema)


def _schema(args: argparse.Namespace) -> int:
    print_json(json_schema(), sys.stdout)
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    status = EXIT_OK
    results: list[dict[str, Any]] = []
    for path in args.files:
        try:
            if args.format == "native":
                document = load_document(path, args.syntax)
                flags, segments, kind = len(document.flags), len(document.segments), "native"
            else:
                snapshot = load_snapshot(path, args.format, syntax=args.syntax)
                native = snapshot.format == "native"
                flags, kind = len(snapshot.flags), snapshot.format
                segments = len(snapshot.document.segments) if native else 0
        except CommandError as exc:
            if not args.json:
                for line in exc.lines:
                    print(line, file=sys.stderr)
            results.append(
                {
                    "file": path,
                    "ok": False,
                    "format": None if args.format == "auto" else args.format,
                    "flags": None,
                    "segments": None,
                    "problems": list(exc.lines),
                }
            )
            status = EXIT_INVALID
        else:
            if not args.json:
                where = f"{segments} segments" if kind == "native" else f"{kind} format"
                print(f"{path}: ok ({flags} flags, {where})")
            results.append(
                {
                    "file": path,
                    "ok": True,
                    "format": kind,
                    "flags": flags,
                    "segments": segments,
                    "problems": [],
                }
            )
    if args.json:
        print_json(results, sys.stdout)
    return status


def _eval(args: argparse.Namespace) -> int:
    clock = clock_at(args.at)
    context = context_from(args.context, args.targeting_key)
    if args.explain and args.contexts is not None:
        raise usage_error("--explain explains one context; it cannot be used with --contexts")
    if args.format == "native":
        document = load_document(args.file, args.syntax)
        snapshot = compile_document(document, origin=args.file, clock=clock or time.time)
    else:
        snapshot = load_snapshot(args.file, args.format, syntax=args.syntax, clock=clock)
    client = Client(snapshot, clock=clock)
    if args.contexts is not None:
        return _eval_batch(client, args.flag, args.contexts, context)
    if args.explain:
        trace = explain(snapshot, args.flag, context)
        if args.json:
            print_json(trace.to_dict(), sys.stdout)
        else:
            sys.stdout.write(render_explanation(trace))
            hint = None if trace.error_code is None else HINTS.get(ErrorCode(trace.error_code))
            if hint is not None:
                sys.stdout.write(f"hint: {hint}\n")
        return EXIT_EVAL_ERROR if trace.error_code is not None else EXIT_OK
    details = client.get_details(args.flag, None, context)
    if args.json:
        print(to_json(details.to_dict()))
    else:
        _print_details(details, sys.stdout)
    return EXIT_EVAL_ERROR if details.is_error else EXIT_OK


def _eval_batch(client: Client, flag: str, path: str, base: dict[str, Any]) -> int:
    status = EXIT_OK
    for number, parsed in read_contexts(path):
        if isinstance(parsed, str):
            row = {
                "line": number,
                "value": None,
                "variant": None,
                "reason": "ERROR",
                "error_code": "PARSE_ERROR",
                "error_message": parsed,
            }
            status = EXIT_EVAL_ERROR
        else:
            details = client.get_details(flag, None, {**base, **parsed})
            row = {"line": number, "targetingKey": parsed.get("targetingKey"), **details.to_dict()}
            if details.is_error:
                status = EXIT_EVAL_ERROR
        print(to_json(row))
    return status


def _print_details(details: Details, out: TextIO) -> None:
    rows = [
        ("flag", details.flag_key),
        ("value", to_json(details.value)),
        ("variant", details.variant or "-"),
        ("reason", details.reason.value),
    ]
    if details.rule is not None:
        rows.append(("rule", details.rule))
    if details.bucket is not None:
        rows.append(("bucket", f"{details.bucket} of 10000"))
    if details.error_code is not None:
        rows.append(("error", f"{details.error_code.value}: {details.error_message}"))
        hint = HINTS.get(details.error_code)
        if hint is not None:
            rows.append(("hint", hint))
    for name, value in rows:
        out.write(f"{name + ':':9}{value}\n")
