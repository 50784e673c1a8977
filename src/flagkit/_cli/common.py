"""What every command shares: exit codes, command errors, loading files, contexts, time."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, BinaryIO

from flagkit._core.compile import compile_document
from flagkit._core.snapshot import Snapshot
from flagkit._core.timeutil import timestamp_of
from flagkit._definitions.load import validate_document
from flagkit._definitions.model import Document
from flagkit._definitions.parse import read_file
from flagkit._errors import DefinitionError, FlagkitError
from flagkit._sources.pipeline import snapshot_from_file
from flagkit._types import DOCUMENT_FORMATS, Clock, DocumentFormat, Syntax

__all__ = [
    "EXIT_EVAL_ERROR",
    "EXIT_IMPACT",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "EXIT_WARNINGS",
    "CommandError",
    "add_format_option",
    "clock_at",
    "compile_at",
    "context_from",
    "load_document",
    "load_snapshot",
    "parse_value",
    "read_contexts",
    "set_path",
    "usage_error",
]

# The exit codes are a contract other tools script against; docs/cli.md lists them.
EXIT_OK = 0
EXIT_INVALID = 1  # an invalid flag file, or lint errors
EXIT_USAGE = 2
EXIT_EVAL_ERROR = 3
EXIT_IMPACT = 4  # diff --fail-above: a flag's impact is above the threshold
EXIT_WARNINGS = 5  # lint --strict: warnings but no errors
EXIT_PARTIAL = 6  # convert: some flags had no exact native form and were left out


class CommandError(Exception):
    """A command cannot go on: print ``lines`` to stderr and exit with ``exit_code``."""

    def __init__(self, exit_code: int, lines: Iterable[str]) -> None:
        self.exit_code = exit_code
        self.lines = tuple(lines)
        super().__init__("\n".join(self.lines))


def usage_error(message: str) -> CommandError:
    """Return the error of a bad command line (exit 2)."""
    return CommandError(EXIT_USAGE, [f"flagkit: error: {message}"])


def load_document(path: str, syntax: Syntax | None = None) -> Document:
    """Read and validate a flag file; raise CommandError (exit 1) listing every problem."""
    try:
        return validate_document(read_file(path, syntax), source=path)
    except DefinitionError as exc:
        raise CommandError(EXIT_INVALID, [str(p) for p in exc.problems]) from exc
    except FlagkitError as exc:
        raise CommandError(EXIT_INVALID, [str(exc)]) from exc


def add_format_option(parser: argparse.ArgumentParser, *, syntax: bool = True) -> None:
    """Add ``--format`` (what the file means) and, by default, ``--syntax`` (how it is written)."""
    if syntax:
        parser.add_argument(
            "--syntax", choices=["json", "toml", "yaml"], help="the file's syntax (default: suffix)"
        )
    parser.add_argument(
        "--format",
        choices=list(DOCUMENT_FORMATS),
        default="native",
        help="native flagkit flags, a flagd or an Unleash document, or auto to detect "
        "(default: native)",
    )


def load_snapshot(
    path: str, fmt: DocumentFormat, *, syntax: Syntax | None = None, clock: Clock | None = None
) -> Snapshot:
    """Read, validate and compile a flag file of any format; raise CommandError (exit 1)."""
    try:
        return snapshot_from_file(
            path,
            syntax,
            format=fmt,
            clock=clock,
            keep_definitions=True,
            isolate=False,  # the CLI reports every problem and refuses the file
        )
    except DefinitionError as exc:
        raise CommandError(EXIT_INVALID, [str(p) for p in exc.problems]) from exc
    except FlagkitError as exc:
        raise CommandError(EXIT_INVALID, [str(exc)]) from exc


def clock_at(text: str | None) -> Clock | None:
    """Return a clock stopped at ``--at TIME``, or None for the real clock."""
    if text is None:
        return None
    instant = timestamp_of(text)
    if instant is None:
        raise usage_error(f"--at expects an ISO 8601 time, got {text!r}")
    return lambda: instant


def compile_at(
    path: str, flag: str, at: str | None, fmt: DocumentFormat = "native"
) -> tuple[Snapshot, float]:
    """Load and compile a flag file (any format) with its clock stopped at ``--at`` (or now).

    Return the snapshot and that instant; a usage error (exit 2) when the
    file has no flag ``flag``.
    """
    clock = clock_at(at)
    now = clock() if clock is not None else time.time()
    if fmt == "native":
        snapshot = compile_document(load_document(path), origin=path, clock=lambda: now)
    else:  # the commands read plans, which every format compiles to
        snapshot = load_snapshot(path, fmt, clock=lambda: now)
    if flag not in snapshot.flags:
        raise usage_error(f"no flag {flag!r} in {path}")
    return snapshot, now


def parse_value(text: str) -> Any:
    """Return ``text`` parsed as JSON, or the text itself when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def set_path(context: dict[str, Any], key: str, value: Any, option: str) -> None:
    """Set a dotted ``key`` (nesting objects) in ``context``."""
    *parents, leaf = key.split(".")
    node = context
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise usage_error(f"{option} {key!r} conflicts with an earlier value")
    node[leaf] = value


def context_from(pairs: Sequence[str], targeting_key: str | None) -> dict[str, Any]:
    """Build a context from ``--context KEY=VALUE`` pairs and a targeting key."""
    context: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise usage_error(f"--context expects KEY=VALUE, got {pair!r}")
        set_path(context, key, parse_value(value), "--context")
    if targeting_key is not None:
        context["targetingKey"] = targeting_key
    return context


def read_contexts(path: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Yield (number, context) from a JSON Lines file, or an error message for a bad line.

    ``-`` reads stdin. Blank lines are skipped and not counted; an unreadable
    file is a usage error.
    """
    handle: BinaryIO
    try:
        with sys.stdin.buffer if path == "-" else open(path, "rb") as handle:
            lines = (line for line in handle if line.strip())
            for number, line in enumerate(lines, 1):
                try:
                    parsed = json.loads(line.decode("utf-8"))
                except UnicodeDecodeError:
                    yield number, "not UTF-8"
                    continue
                except ValueError:
                    parsed = None
                yield number, parsed if isinstance(parsed, dict) else "not a JSON object"
    except OSError as exc:
        raise usage_error(f"cannot read {path}: {exc.strerror or exc}") from exc
