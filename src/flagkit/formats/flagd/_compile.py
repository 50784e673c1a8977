"""Compile a flagd document into immutable flags and resolve them like flagd does.

Resolution follows flagd's in-process evaluation
(https://flagd.dev/reference/specifications/providers/ and
https://flagd.dev/reference/flag-definitions/):

========================================  ===============  ================
situation                                 reason           error code
========================================  ===============  ================
no flag under the key                     ERROR            FLAG_NOT_FOUND
``state: DISABLED``                       DISABLED         (caller default)
flag failed to compile (isolated)         ERROR            PARSE_ERROR
no targeting (absent or ``{}``)           STATIC           (or DEFAULT with
                                                           no defaultVariant)
targeting returned null                   DEFAULT          default variant,
                                                           or caller default
targeting named a variant                 TARGETING_MATCH
targeting named no variant / failed       ERROR            GENERAL
variant value of another type             ERROR            TYPE_MISMATCH
========================================  ===============  ================

A boolean returned by targeting names the variant ``"true"``/``"false"`` and a
number names the variant spelled as JavaScript prints it (``1`` -> ``"1"``),
as flagd stringifies targeting results. Every ERROR serves the caller's
default. A flag without targeting precomputes its resolution at compile time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, Literal

from flagkit._errors import DefinitionError, Problem
from flagkit._types import Clock
from flagkit.formats._problems import definition_error
from flagkit.formats.flagd._jsonlogic import (
    CompiledLogic,
    EvaluationFailure,
    compile_logic,
    js_string,
)
from flagkit.formats.flagd._model import FlagdDocument, FlagdFlag, validate_flagd_document

__all__ = [
    "CompiledFlagdFlag",
    "ErrorCode",
    "ExpectedType",
    "FlagdFlagSet",
    "FlagdResolution",
    "Reason",
    "compile_flagd_document",
    "resolve_flagd_flag",
]

Reason = Literal["STATIC", "TARGETING_MATCH", "DEFAULT", "DISABLED", "ERROR"]
ErrorCode = Literal["FLAG_NOT_FOUND", "PARSE_ERROR", "TYPE_MISMATCH", "GENERAL"]
#: The typed getter a caller used; a variant value of another type is TYPE_MISMATCH.
ExpectedType = Literal["boolean", "string", "integer", "float", "object"]


@dataclass(frozen=True, slots=True)
class FlagdResolution:
    """The outcome of resolving one flag: value, variant, reason and error.

    ``uses_default`` is true when ``value`` is the caller's default (DISABLED,
    ERROR, or DEFAULT without a defaultVariant); ``variant`` is then None.
    """

    value: Any
    variant: str | None
    reason: Reason
    error_code: ErrorCode | None = None
    error_message: str | None = None
    uses_default: bool = False


def _caller_default(
    default: Any, reason: Reason, code: ErrorCode | None = None, message: str | None = None
) -> FlagdResolution:
    return FlagdResolution(default, None, reason, code, message, uses_default=True)


def _type_matches(value: Any, expected: ExpectedType) -> bool:
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, Mapping)


def _variant_name(result: Any) -> str | None:
    """Name the variant a targeting result selects, as flagd stringifies it."""
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, str):
        return result
    if isinstance(result, (int, float)):
        return js_string(result)
    return None


class CompiledFlagdFlag:
    """One compiled flag: immutable, resolved with :meth:`resolve`."""

    __slots__ = (
        "_default",
        "_default_variant",
        "_matches",
        "_rule",
        "_static",
        "_variants",
        "disabled",
        "key",
        "metadata",
        "problem",
    )

    def __init__(
        self,
        key: str,
        *,
        variants: Mapping[str, Any],
        default_variant: str | None,
        rule: CompiledLogic | None,
        disabled: bool,
        metadata: Mapping[str, Any],
        problem: str | None = None,
    ) -> None:
        self.key = key
        self.disabled = disabled
        #: Why the flag could not be compiled (isolate mode), or None.
        self.problem = problem
        self.metadata: Mapping[str, Any] = MappingProxyType(dict(metadata))
        self._variants: Mapping[str, Any] = MappingProxyType(dict(variants))
        self._default_variant = default_variant
        self._rule = rule
        # Resolutions are immutable, so each possible one is built once, here.
        self._matches = {
            name: FlagdResolution(value, name, "TARGETING_MATCH")
            for name, value in variants.items()
        }
        self._default = self._from_default("DEFAULT")
        # Without targeting the answer never changes: compute it now.
        self._static: FlagdResolution | None = None
        if problem is not None:
            self._static = _caller_default(None, "ERROR", "PARSE_ERROR", problem)
        elif disabled:
            self._static = _caller_default(None, "DISABLED")
        elif rule is None:
            self._static = self._from_default("STATIC")

    @property
    def variants(self) -> Mapping[str, Any]:
        """Return the flag's variants, name to value (read-only)."""
        return self._variants

    @property
    def rule(self) -> CompiledLogic | None:
        """Return the compiled targeting rule, or None when the flag has none."""
        return self._rule

    @property
    def default_variant(self) -> str | None:
        """Return the default variant's name, or None to serve the caller's default."""
        return self._default_variant

    def _from_default(self, reason: Reason) -> FlagdResolution:
        name = self._default_variant
        if name is None:
            return FlagdResolution(None, None, "DEFAULT", uses_default=True)
        return FlagdResolution(self._variants[name], name, reason)

    def resolve(
        self,
        context: Mapping[str, Any],
        *,
        default: Any = None,
        expected: ExpectedType | None = None,
    ) -> FlagdResolution:
        """Resolve the flag for ``context``; never raises.

        ``default`` is the caller's default, served on DISABLED, ERROR and a
        DEFAULT without defaultVariant; ``expected`` enables TYPE_MISMATCH.
        """
        resolution = self._static
        if resolution is None:
            resolution = self._evaluate(context)
        if resolution.uses_default:
            if resolution.value is default:
                return resolution
            return FlagdResolution(
                default,
                None,
                resolution.reason,
                resolution.error_code,
                resolution.error_message,
                uses_default=True,
            )
        if expected is not None and not _type_matches(resolution.value, expected):
            return _caller_default(
                default,
                "ERROR",
                "TYPE_MISMATCH",
                f"flag {self.key!r} variant {resolution.variant!r} is not of type {expected}",
            )
        return resolution

    def _evaluate(self, context: Mapping[str, Any]) -> FlagdResolution:
        rule = self._rule
        assert rule is not None  # broken, disabled and rule-less flags are static
        result = rule(context)
        if result is None:
            return self._default
        if isinstance(result, EvaluationFailure):
            return _caller_default(
                None, "ERROR", "GENERAL", f"flag {self.key!r} targeting failed: {result.message}"
            )
        match = self._matches.get(result) if type(result) is str else None
        if match is not None:
            return match
        name = _variant_name(result)
        match = self._matches.get(name) if name is not None else None
        if match is None:
            return _caller_default(
                None,
                "ERROR",
                "GENERAL",
                f"flag {self.key!r} targeting returned {result!r}, which names no variant",
            )
        return match


@dataclass(frozen=True, slots=True)
class FlagdFlagSet:
    """A compiled flagd document: its flags, flag-set metadata and any isolated problems."""

    flags: Mapping[str, CompiledFlagdFlag]
    metadata: Mapping[str, Any]
    problems: tuple[Problem, ...] = ()
    source: str | None = None


_NOT_FOUND: Final = "FLAG_NOT_FOUND"


def resolve_flagd_flag(
    flag_set: FlagdFlagSet,
    key: str,
    context: Mapping[str, Any],
    *,
    default: Any = None,
    expected: ExpectedType | None = None,
) -> FlagdResolution:
    """Resolve flag ``key`` of ``flag_set`` for ``context``; never raises."""
    flag = flag_set.flags.get(key)
    if flag is None:
        return _caller_default(default, "ERROR", _NOT_FOUND, f"flag {key!r} not found")
    return flag.resolve(context, default=default, expected=expected)


def compile_flagd_document(
    raw: Any,
    *,
    source: str | None = None,
    clock: Clock = time.time,
    isolate_problems: bool = False,
) -> FlagdFlagSet:
    """Validate and compile a parsed flagd document into a :class:`FlagdFlagSet`.

    Every problem (schema and targeting) is collected, located as
    ``flags.<key>.<field>``. By default any problem raises
    :class:`DefinitionError`; with ``isolate_problems=True`` only the
    document-level ones do, and each broken flag resolves to ERROR/PARSE_ERROR
    while the others work (the problems are kept on the result).
    ``clock`` supplies ``$flagd.timestamp`` (Unix seconds).
    """
    problems: list[Problem] = []
    document: FlagdDocument | None = None
    try:
        document = validate_flagd_document(raw, source=source)
    except DefinitionError as exc:
        problems.extend(exc.problems)

    raw_flags = raw.get("flags") if isinstance(raw, Mapping) else None
    raw_evaluators = raw.get("$evaluators") if isinstance(raw, Mapping) else None
    evaluators = raw_evaluators if isinstance(raw_evaluators, Mapping) else {}
    for name, evaluator in evaluators.items():
        # Check every shared rule on its own, so that an unused one is checked too.
        try:
            compile_logic(
                evaluator,
                evaluators=evaluators,
                flag_key="",
                clock=clock,
                location=("$evaluators", name),
            )
        except DefinitionError as exc:
            problems.extend(exc.problems)
    rules: dict[str, CompiledLogic | None] = {}
    if isinstance(raw_flags, Mapping):
        for key, raw_flag in raw_flags.items():
            targeting = raw_flag.get("targeting") if isinstance(raw_flag, Mapping) else None
            if not isinstance(targeting, Mapping) or not targeting:
                rules[key] = None  # absent or {}: no targeting (a non-object is a schema problem)
                continue
            try:
                rules[key] = compile_logic(
                    targeting,
                    evaluators=evaluators,
                    flag_key=key,
                    clock=clock,
                    location=("flags", key, "targeting"),
                )
            except DefinitionError as exc:
                problems.extend(exc.problems)

    flag_problems = _problems_by_flag(problems)
    global_problems = [p for p in problems if p.flag is None]
    if problems and (not isolate_problems or global_problems):
        raise definition_error(problems, source=source)

    # Past this point only flag-level problems remain (isolate mode), so the
    # document's shape and its metadata are valid.
    assert isinstance(raw, Mapping)
    assert isinstance(raw_flags, Mapping)
    set_metadata = dict(raw.get("metadata") or {})
    flags: dict[str, CompiledFlagdFlag] = {}
    for key, raw_flag in raw_flags.items():
        if key in flag_problems:
            detail = "; ".join(str(p) for p in flag_problems[key])
            flags[key] = _broken_flag(key, f"flag {key!r} is invalid: {detail}")
            continue
        model = document.flags[key] if document is not None else FlagdFlag.model_validate(raw_flag)
        flags[key] = _compile_flag(key, model, rules.get(key), set_metadata)
    return FlagdFlagSet(
        flags=MappingProxyType(flags),
        metadata=MappingProxyType(set_metadata),
        problems=definition_error(problems, source=source).problems,
        source=source,
    )


def _problems_by_flag(problems: list[Problem]) -> dict[str, list[Problem]]:
    grouped: dict[str, list[Problem]] = {}
    for problem in problems:
        key = problem.flag
        if key is not None:
            grouped.setdefault(key, []).append(problem)
    return grouped


def _broken_flag(key: str, problem: str) -> CompiledFlagdFlag:
    return CompiledFlagdFlag(
        key,
        variants={},
        default_variant=None,
        rule=None,
        disabled=False,
        metadata={},
        problem=problem,
    )


def _compile_flag(
    key: str, model: FlagdFlag, rule: CompiledLogic | None, set_metadata: Mapping[str, Any]
) -> CompiledFlagdFlag:
    # Flag metadata overrides flag-set metadata key by key (flagd providers spec).
    metadata = {**set_metadata, **(model.metadata or {})}
    return CompiledFlagdFlag(
        key,
        variants=model.variants,
        default_variant=model.default_variant,
        rule=rule,
        disabled=model.state == "DISABLED",
        metadata=metadata,
    )
