"""``flagkit generate FILE``: typed ``flagkit.Flag`` declarations of every flag in a file.

As OpenFeature's CLI does for other languages: one constant per flag
(``CHECKOUT_CANARY: Flag[bool] = Flag("checkout-canary", default=False)``),
and for each string flag a ``StrEnum`` of its values, so that code compares
against members, not strings. The default each declaration carries is
``False`` for a boolean flag, else the value the flag serves by default when
that is one fixed variant, else its first variant's value.

The output is a Python module rendered from data only: keys, names and
values are written as ``repr`` literals and identifiers made of letters,
digits and underscores, so a hostile flag file cannot inject code.
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
from typing import Any

from flagkit._cli.common import EXIT_INVALID, EXIT_OK, CommandError, add_format_option
from flagkit._core.snapshot import CompiledFlag, Snapshot
from flagkit._errors import DefinitionError, FlagkitError
from flagkit._sources.pipeline import snapshot_from_file
from flagkit._version import VERSION

__all__ = ["register", "render_declarations"]

_WORD = re.compile(r"[^0-9A-Za-z]+")


def register(commands: Any) -> None:
    """Add the generate sub-command."""
    parser = commands.add_parser(
        "generate", help="write typed flagkit.Flag declarations (Python) for a flag file"
    )
    parser.add_argument("file", metavar="FILE", help="the flag file to declare")
    parser.add_argument(
        "--output", "-o", metavar="PATH", help="the Python module to write (default: stdout)"
    )
    add_format_option(parser)
    parser.set_defaults(handler=_generate)


def _generate(args: argparse.Namespace) -> int:
    try:
        snapshot = snapshot_from_file(args.file, args.syntax, format=args.format)
    except DefinitionError as exc:
        raise CommandError(EXIT_INVALID, [str(p) for p in exc.problems]) from exc
    except FlagkitError as exc:
        raise CommandError(EXIT_INVALID, [str(exc)]) from exc
    text = render_declarations(snapshot, source=args.file)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise CommandError(
            EXIT_INVALID, [f"flagkit: cannot write {args.output}: {exc.strerror or exc}"]
        ) from exc
    print(f"wrote {args.output} ({len(snapshot.flags)} flags)")
    return EXIT_OK


def _identifier(text: str, *, upper: bool, taken: set[str]) -> str:
    """Return a fresh Python identifier spelling ``text`` (UPPER_SNAKE or CamelCase)."""
    words = [w for w in _WORD.split(text) if w]
    if upper:
        name = "_".join(w.upper() for w in words) or "FLAG"
    else:
        name = "".join(w[:1].upper() + w[1:] for w in words) or "Flag"
    if name[0].isdigit():
        name = ("V_" if upper else "V") + name
    if keyword.iskeyword(name) or name in {"Flag", "Any", "StrEnum"}:
        name += "_"
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate


def _default_value(flag: CompiledFlag) -> Any:
    if flag.value_type == "bool":
        return False
    default = flag.plan.default
    if isinstance(default, tuple) and default[0].has_value:
        return default[0].value
    return next(iter(flag.variants.values()))


def _literal(value: Any) -> str:
    """Return the Python literal of a JSON value (strings double-quoted, as formatters write)."""
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid Python string literal
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)  # bool, None, int, float


def _assignment(target: str, arguments: str) -> str:
    """Return ``target = Flag(arguments)``, split over three lines when longer than 100."""
    line = f"{target} = Flag({arguments})"
    return line if len(line) <= 100 else f"{target} = Flag(\n    {arguments}\n)"


def _comment(flag: CompiledFlag) -> list[str]:
    description = flag.meta.description
    if not description:
        return []
    return [f"#: {' '.join(description.split())}"]


def render_declarations(snapshot: Snapshot, *, source: str) -> str:
    """Return the Python module declaring every flag of ``snapshot``."""
    taken: set[str] = set()
    enums: list[str] = []
    constants: list[str] = []
    uses_any = False
    for key, flag in snapshot.flags.items():
        name = _identifier(key, upper=True, taken=taken)
        default = _default_value(flag)
        constants += _comment(flag)
        if flag.value_type == "str":
            enum_name = _identifier(key, upper=False, taken=taken)
            members: set[str] = set()
            lines = [
                f"class {enum_name}(StrEnum):",
                f'    """The values of {_literal(key)}."""',
                "",
            ]
            member_of: dict[str, str] = {}
            for variant, value in flag.variants.items():
                if value in member_of:
                    continue
                member = _identifier(variant, upper=True, taken=members)
                member_of[value] = member
                lines.append(f"    {member} = {_literal(value)}")
            enums.append("\n".join(lines))
            constants.append(
                _assignment(
                    f"{name}: Flag[{enum_name}]",
                    f"{_literal(key)}, default={enum_name}.{member_of[default]}",
                )
            )
            continue
        annotation = {"bool": "bool", "int": "int", "float": "float"}.get(
            flag.value_type, "dict[str, Any]"
        )
        uses_any = uses_any or annotation == "dict[str, Any]"
        if flag.value_type == "float":
            default = float(default)
        constants.append(
            _assignment(
                f"{name}: Flag[{annotation}]", f"{_literal(key)}, default={_literal(default)}"
            )
        )
    header = [
        '"""Typed declarations of the flags in ' + _literal(source).strip('"') + ".",
        "",
        f"Generated by `flagkit generate` (flagkit {VERSION}): regenerate it when the flag",
        "file changes rather than editing it. `flagkit lint --code` and the pytest",
        "plugin's check compare these declarations with the file.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    imports = []
    if enums:
        imports.append("from enum import StrEnum")
    if uses_any:
        imports.append("from typing import Any")
    body = [*header, *imports, *([""] if imports else []), "from flagkit import Flag", ""]
    for block in enums:
        body += ["", block, ""]
    body += ["", *constants]
    return "\n".join(body) + "\n"
