"""Convert a flagd document into flagkit's native format, where the native format can say it.

A flag is converted only when the native flag serves the same value and
variant as flagd for every context (reasons may differ: a flagd
``fractional`` reports TARGETING_MATCH, the native rollout SPLIT). What can
be converted:

- ``state: DISABLED`` -> ``enabled: false`` without ``off_variant``: flagd
  serves the caller's default for a disabled flag, and so does that.
- no targeting -> ``default: <defaultVariant>``.
- ``if`` chains (nested in ``else`` position, or in ``then`` position) whose
  conditions are ``and``/``or`` of simple tests of a ``var`` against literals
  -> ordered rules; ``or`` becomes one rule per alternative.
- ``fractional`` over literal buckets -> a rollout in percent, only when every
  weight is a whole number of hundredths of a percent of the total (then the
  buckets are identical: see ``_bucketing``). flagd's default bucketing value
  ``flagKey + targetingKey`` is the native default (salt = flag key, by =
  ``targetingKey``); a ``{"var": x}`` bucketing value is ``by: x, salt: ""``.
  flagd's fractional is null for a non-string value, so the rollout's rule
  also requires a string (``starts_with ""``), and the null case serves the
  default variant. A missing ``var`` bucketing value falls back to the
  default bucketing value (flagd's Go engine), so that case is a rule too.
- ``{"$ref": name}`` is inlined.

Tests whose JSON Logic semantics coerce types (loose ``==`` against a
string, ``<`` against a number) are converted to the typed native operators
with a *note*: the two agree for attribute values of the compared type and
for missing ones, and differ only where flagd would coerce another type
(``"17" < 18``, ``true == 1``).

Everything else is reported, one line per construct, with its location.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from flagkit._core.semver import parse_version
from flagkit.formats._problems import Path, dotted
from flagkit.formats.flagd._compile import compile_flagd_document, variant_name
from flagkit.formats.flagd._govalues import js_number
from flagkit.formats.flagd._operators import parse_buckets

__all__ = ["Conversion", "convert_flagd"]

#: More alternatives than this (``or`` inside ``and`` multiplies) is refused:
#: the rule list would stop being something a person can read.
MAX_ALTERNATIVES: Final = 32

_Condition = dict[str, Any]
_Conjunction = list[_Condition]
_Rule = tuple[_Conjunction, Any]  # (conditions, native serve)


@dataclass
class Conversion:
    """The result of converting a flagd document.

    ``document`` is a native document holding every converted flag;
    ``problems`` lists, per flag left out, why (located); ``notes`` lists
    what was dropped or approximated; ``inexact`` lists the notes where a
    converted flag can serve a different value than flagd for some context
    (a loose JSON Logic comparison became a typed one).
    """

    document: dict[str, Any]
    converted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inexact: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Return True when every flag was converted."""
        return not self.problems

    @property
    def exact(self) -> bool:
        """Return True when every flag converted and serves what flagd serves, always."""
        return self.complete and not self.inexact


class _Unconvertible(Exception):
    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{dotted(path)}: {message}")


def convert_flagd(raw: Any, *, source: str | None = None) -> Conversion:
    """Convert a parsed flagd document; raise DefinitionError if it is not valid flagd."""
    compile_flagd_document(raw, source=source)  # validates, reporting every problem
    evaluators: Mapping[str, Any] = raw.get("$evaluators") or {}
    conversion = Conversion(document={"version": 1, "flags": {}})
    if raw.get("metadata"):
        conversion.notes.append("metadata: flag-set metadata has no native equivalent; dropped")
    for key, flag in raw["flags"].items():
        converter = _FlagConverter(key, flag, evaluators)
        try:
            native = converter.flag()
        except _Unconvertible as exc:
            conversion.problems.append(f"{exc} (flag {key!r} not converted)")
            continue
        conversion.document["flags"][key] = native
        conversion.converted.append(key)
        conversion.notes.extend(converter.notes)
        conversion.inexact.extend(converter.inexact)
    return conversion


class _FlagConverter:
    def __init__(self, key: str, flag: Mapping[str, Any], evaluators: Mapping[str, Any]) -> None:
        self.key = key
        self.raw = flag
        self.evaluators = evaluators
        self.variants: dict[str, Any] = dict(flag.get("variants") or {"true": True, "false": False})
        self.default_variant: str | None = flag.get("defaultVariant")
        self.notes: list[str] = []
        self.inexact: list[str] = []
        self.rules: list[_Rule] = []

    def flag(self) -> dict[str, Any]:
        here: Path = ("flags", self.key)
        native: dict[str, Any] = {"variants": self.variants}
        if self.raw.get("metadata"):
            self.notes.append(f"{dotted((*here, 'metadata'))}: no native equivalent; dropped")
        if self.raw.get("state") == "DISABLED":
            # flagd serves the caller's default for a disabled flag: no off_variant.
            native["enabled"] = False
            native["default"] = self.default_variant or next(iter(self.variants))
            return native
        targeting = self.raw.get("targeting")
        if not targeting:
            native["default"] = self.serve_default((*here, "defaultVariant"))
            return native
        default = self.emit(targeting, [], (*here, "targeting"))
        if self.rules:
            native["rules"] = [{"when": when, "serve": serve} for when, serve in self.rules]
        native["default"] = default
        return native

    def serve_default(self, path: Path) -> str:
        if self.default_variant is None:
            raise _Unconvertible(
                path,
                "no defaultVariant (the caller's default): a native flag always serves a variant",
            )
        return self.default_variant

    def inline(self, node: Any, path: Path) -> tuple[Any, Path]:
        for _ in range(64):
            if not (isinstance(node, Mapping) and list(node) == ["$ref"]):
                break
            name = node["$ref"]
            node, path = self.evaluators[name], ("$evaluators", name)
        return node, path

    # -- results ----------------------------------------------------------------

    def emit(self, node: Any, prefix: _Conjunction, path: Path) -> Any:
        """Add the rules serving ``node`` under ``prefix``; return the catch-all serve.

        With an empty prefix the returned serve is the flag's default; with a
        non-empty one it has already been added as a rule, and None is returned.
        """
        node, path = self.inline(node, path)
        if isinstance(node, Mapping) and list(node) == ["if"]:
            return self.emit_if(node["if"], prefix, (*path, "if"))
        if isinstance(node, Mapping) and list(node) == ["fractional"]:
            for guard, rollout in self.fractional(node["fractional"], (*path, "fractional")):
                self.rules.append(([*prefix, *guard], rollout))
            return self.catch_all(self.serve_default(path), prefix)
        if node is None:
            return self.catch_all(self.serve_default(path), prefix)
        if isinstance(node, (str, bool, int, float)):
            name = variant_name(node)
            if name is None or name not in self.variants:
                raise _Unconvertible(path, f"{node!r} names no variant (flagd reports an error)")
            return self.catch_all(name, prefix)
        if (
            isinstance(node, Mapping)
            and self.default_variant == "false"
            and "true" in self.variants
        ):
            # A bare test names "true" or "false"; a null (a non-string for
            # starts_with, an unparsable sem_ver) serves the default, "false" too.
            for conjunction in self.condition(node, path):
                self.rules.append(([*prefix, *conjunction], "true"))
            return self.catch_all("false", prefix)
        raise _Unconvertible(
            path,
            "only if, fractional, $ref, variant names and (for a flag whose variants are "
            '"true" and "false", with "false" the default) a bare test can pick a variant natively',
        )

    def catch_all(self, serve: Any, prefix: _Conjunction) -> Any:
        if not prefix:
            return serve
        self.rules.append((prefix, serve))
        return None

    def emit_if(self, args: Any, prefix: _Conjunction, path: Path) -> Any:
        if not isinstance(args, list) or len(args) < 2:
            raise _Unconvertible(path, "an 'if' needs a condition and a result")
        for index in range(0, len(args) - 1, 2):
            alternatives = self.condition(args[index], (*path, index))
            for conjunction in alternatives:
                self.emit(args[index + 1], [*prefix, *conjunction], (*path, index + 1))
        rest = args[-1] if len(args) % 2 else None
        return self.emit(rest, prefix, (*path, len(args) - 1))

    # -- fractional ---------------------------------------------------------------

    def fractional(self, args: Any, path: Path) -> list[_Rule]:
        if not isinstance(args, list) or not args:
            raise _Unconvertible(path, "fractional needs buckets")
        by, salt = "targetingKey", None
        specs = args
        if not isinstance(args[0], list):
            attribute = _var_name(args[0])
            if attribute is None:
                raise _Unconvertible(
                    (*path, 0), "only {'var': name} (or the default) can be the bucketing value"
                )
            by, salt, specs = attribute, "", args[1:]
        if not all(
            isinstance(spec, list) and all(not isinstance(x, (list, Mapping)) for x in spec)
            for spec in specs
        ):
            raise _Unconvertible(path, "only literal [variant, weight] buckets convert")
        parsed = parse_buckets(specs)
        if parsed is None or parsed[1] == 0:
            raise _Unconvertible(path, "malformed buckets, or no weight (flagd returns null)")
        buckets, total = parsed
        weights: dict[str, int] = {}
        last: str | None = None
        for variant, weight in buckets:
            name = variant_name(variant) if variant is not None else self.default_variant
            if name is None or name not in self.variants:
                raise _Unconvertible(path, f"bucket {variant!r} names no variant")
            if name in weights and name != last:
                raise _Unconvertible(
                    path, f"variant {name!r} has two separate buckets; a rollout gives one each"
                )
            weights[name] = weights.get(name, 0) + weight
            last = name
        percents: dict[str, int | float] = {}
        for name, weight in weights.items():
            hundredths, rest = divmod(weight * 10_000, total)
            if rest:
                raise _Unconvertible(
                    path,
                    f"weight {weight} of {total} for {name!r} is not a whole hundredth of a "
                    "percent; the native rollout would bucket differently",
                )
            percent = hundredths / 100
            percents[name] = int(percent) if percent.is_integer() else percent
        # fractional is null for a non-string bucketing value, and for a
        # missing or empty targeting key: each rule needs a (non-empty) string.
        by_key = [
            {"attribute": "targetingKey", "op": "starts_with", "value": ""},
            {"attribute": "targetingKey", "op": "not_equals", "value": ""},
        ]
        default_split = (by_key, {"rollout": {"weights": percents}})
        if by == "targetingKey":
            return [default_split]
        # An explicit empty bucketing value is hashed: murmur3 of no bytes is 0,
        # so it always falls in bucket 0, the first variant of positive weight.
        first = next(name for name, weight in weights.items() if weight > 0)
        empty = {"attribute": by, "op": "equals", "value": ""}
        # A null bucketing value falls back to the default, flagKey + targetingKey.
        rollout = {"weights": percents, "by": by, "salt": salt}
        absent = {"attribute": by, "op": "exists", "negate": True}
        return [
            ([empty], first),
            ([{"attribute": by, "op": "starts_with", "value": ""}], {"rollout": rollout}),
            ([absent, *by_key], default_split[1]),
        ]

    # -- conditions ---------------------------------------------------------------

    def condition(self, node: Any, path: Path) -> list[_Conjunction]:
        """Return the condition as alternatives (or) of conjunctions (and)."""
        node, path = self.inline(node, path)
        if not isinstance(node, Mapping) or len(node) != 1:
            raise _Unconvertible(path, "only operator objects convert to conditions")
        ((operator, args),) = node.items()
        here = (*path, operator)
        if operator in ("and", "or"):
            if not isinstance(args, list) or not args:
                raise _Unconvertible(here, f"'{operator}' needs a list of conditions")
            parts = [self.condition(arg, (*here, i)) for i, arg in enumerate(args)]
            if operator == "or":
                alternatives = [c for part in parts for c in part]
            else:
                alternatives = [
                    [c for conj in combo for c in conj] for combo in itertools.product(*parts)
                ]
            if len(alternatives) > MAX_ALTERNATIVES:
                raise _Unconvertible(here, f"more than {MAX_ALTERNATIVES} rules would be needed")
            return alternatives
        if not isinstance(args, list):
            args = [args]
        return self.test(operator, args, here)

    def test(self, operator: str, args: list[Any], path: Path) -> list[_Conjunction]:
        attribute = _var_name(args[0]) if args else None
        if operator in ("<", "<=") and len(args) == 3:
            low, middle, high = args
            attribute = _var_name(middle)
            if attribute is None or not (_number(low) and _number(high)):
                raise _Unconvertible(path, "a between test needs number, var, number")
            self.coercion_note(path, "number")
            op = "lt" if operator == "<" else "lte"
            flipped = "gt" if operator == "<" else "gte"
            between = [
                {"attribute": attribute, "op": flipped, "value": low},
                {"attribute": attribute, "op": op, "value": high},
            ]
            return self.with_missing(
                attribute, between, _holds(flipped, 0, low) and _holds(op, 0, high)
            )
        if len(args) == 2 and attribute is None and operator in _FLIPPED:
            # literal on the left: {"<": [18, {"var": "age"}]} is age > 18
            flipped_attribute = _var_name(args[1])
            if flipped_attribute is not None and operator != "in":
                return self.test(_FLIPPED[operator], [args[1], args[0]], path)
        if operator == "in" and len(args) == 2 and attribute is None:
            haystack = _var_name(args[1])
            if haystack is not None and isinstance(args[0], str):
                return [[{"attribute": haystack, "op": "contains", "value": args[0]}]]
        if attribute is None or len(args) < 2:
            raise _Unconvertible(path, f"'{operator}' converts only as a test of a var")
        operand = args[1]
        if operator == "===" and _scalar(operand):
            return [[{"attribute": attribute, "op": "equals", "value": operand}]]
        if operator == "==" and isinstance(operand, str) and _not_numeric(operand):
            self.coercion_note(path, "string")
            return [[{"attribute": attribute, "op": "equals", "value": operand}]]
        if (
            operator == "in"
            and isinstance(operand, list)
            and operand
            and all(map(_scalar, operand))
        ):
            return [[{"attribute": attribute, "op": "in", "values": operand}]]
        if operator in ("starts_with", "ends_with") and isinstance(operand, str):
            return [[{"attribute": attribute, "op": operator, "value": operand}]]
        if operator in _NUMERIC and len(args) == 2 and _number(operand):
            self.coercion_note(path, "number")
            op = _NUMERIC[operator]
            test = [{"attribute": attribute, "op": op, "value": operand}]
            return self.with_missing(attribute, test, _holds(op, 0, operand))
        if operator == "sem_ver" and len(args) == 3:
            return [self.sem_ver(attribute, args[1], args[2], path)]
        raise _Unconvertible(path, f"no native condition for this '{operator}' test")

    def with_missing(
        self, attribute: str, test: _Conjunction, holds_for_null: bool
    ) -> list[_Conjunction]:
        """Add the missing-attribute alternative where JSON Logic's null (as 0) passes."""
        # A missing var is null, which flagd compares as 0: {"<": [{"var":
        # "age"}, 18]} holds without an age. The native test is false then, so
        # absence becomes an alternative of its own.
        if not holds_for_null:
            return [test]
        return [[{"attribute": attribute, "op": "exists", "negate": True}], test]

    def sem_ver(self, attribute: str, op: Any, version: Any, path: Path) -> _Conjunction:
        parsed = parse_version(version) if isinstance(version, str) else None
        if parsed is None or not isinstance(op, str):
            raise _Unconvertible(path, "sem_ver converts only with a literal operator and version")
        if op in _SEMVER:
            native_op, negate = _SEMVER[op]
            test = {"attribute": attribute, "op": native_op, "value": version}
            return [{**test, "negate": True}] if negate else [test]
        if op in ("^", "~"):
            # flagd: ^ compares majors, ~ majors and minors. The lowest version of
            # a major (minor) is its first pre-release, X.Y.0-0.
            major, minor = parsed.major, parsed.minor
            low, high = (
                (f"{major}.0.0-0", f"{major + 1}.0.0-0")
                if op == "^"
                else (f"{major}.{minor}.0-0", f"{major}.{minor + 1}.0-0")
            )
            return [
                {"attribute": attribute, "op": "semver_gte", "value": low},
                {"attribute": attribute, "op": "semver_lt", "value": high},
            ]
        raise _Unconvertible(path, f"unknown sem_ver operator {op!r}")

    def coercion_note(self, path: Path, kind: str) -> None:
        note = (
            f"{dotted(path)}: converted to a typed comparison; JSON Logic would also coerce "
            f"attribute values that are not a {kind}"
        )
        self.notes.append(note)
        self.inexact.append(note)


_NUMERIC: Final = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_FLIPPED: Final = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "===": "===", "==": "=="}
_SEMVER: Final = {
    "=": ("semver_eq", False),
    "!=": ("semver_eq", True),
    "<": ("semver_lt", False),
    "<=": ("semver_lte", False),
    ">": ("semver_gt", False),
    ">=": ("semver_gte", False),
}


def _holds(op: str, left: float, right: float) -> bool:
    return {"lt": left < right, "lte": left <= right, "gt": left > right, "gte": left >= right}[op]


def _var_name(node: Any) -> str | None:
    """Return the attribute a plain ``{"var": name}`` reads, or None."""
    if not isinstance(node, Mapping) or list(node) != ["var"]:
        return None
    path = node["var"]
    if isinstance(path, list):
        if len(path) != 1:
            return None  # a default value has no native equivalent
        path = path[0]
    if not isinstance(path, str) or not path or path.startswith("$flagd"):
        return None
    return path


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, bool, int, float))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _not_numeric(text: str) -> bool:
    """Return True when no number or boolean equals ``text`` under Go flagd's ``==``."""
    # NaN: no number or boolean equals it, only strings (and arrays/objects).
    return math.isnan(js_number(text))
