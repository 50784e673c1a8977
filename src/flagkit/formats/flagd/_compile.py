"""Compile a flagd document's flags: validate, then compile each targeting rule.

The result is data (:class:`CompiledFlagdFlag`): variants, the default
variant, the compiled rule, state and metadata. ``_snapshot`` turns each
into a flag plan whose outcomes are those flagd resolves
(https://flagd.dev/reference/specifications/providers/):

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
default.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from flagkit._errors import DefinitionError, Problem
from flagkit._types import Clock
from flagkit.formats._problems import definition_error
from flagkit.formats.flagd._govalues import json_text
from flagkit.formats.flagd._jsonlogic import PreparedLogic, prepare_logic
from flagkit.formats.flagd._model import (
    FlagdFlag,
    PlainFlag,
    plain_flags,
    validate_flagd_document,
)
from flagkit.formats.flagd._operators import FlagdHashing

__all__ = [
    "CompiledFlagdFlag",
    "FlagdFlagSet",
    "compile_flagd_document",
    "flag_json",
    "variant_name",
]


def variant_name(result: Any) -> str:
    """Name the variant a targeting result selects, as Go flagd does.

    flagd JSON-encodes the result and removes every double quote
    (``json.go``, ``evaluateVariant``): text names itself (``<``, ``>``, ``&``
    and control characters are escaped first, so a variant named ``a<b`` is
    never selected), ``true``/``false`` name ``"true"``/``"false"``, numbers
    are spelled as Go writes them (``1``, ``0.5``, ``1e+21``), and arrays and
    objects as their JSON without quotes. Raises ``GoPanic`` for NaN and
    infinities, which Go cannot encode (flagd: PARSE_ERROR).
    """
    if type(result) is str and result.isalnum():
        return result
    return json_text(result).replace('"', "")


@dataclass(frozen=True, slots=True)
class CompiledFlagdFlag:
    """One compiled flag: what ``_snapshot`` needs to plan it.

    ``problem`` says why the flag could not be compiled (isolate mode): it
    then resolves to ERROR/PARSE_ERROR and the other fields are empty.
    """

    key: str
    variants: Mapping[str, Any]
    default_variant: str | None
    rule: PreparedLogic | None
    disabled: bool
    metadata: Mapping[str, Any]
    problem: str | None = None
    #: The flag's own JSON (keys sorted), for its fingerprint.
    text: str = ""


@dataclass(frozen=True, slots=True)
class FlagdFlagSet:
    """A compiled flagd document: its flags, flag-set metadata and any isolated problems."""

    flags: Mapping[str, CompiledFlagdFlag]
    metadata: Mapping[str, Any]
    problems: tuple[Problem, ...] = ()
    source: str | None = None


def compile_flagd_document(
    raw: Any,
    *,
    source: str | None = None,
    clock: Clock = time.time,
    isolate_problems: bool = False,
    hashing: FlagdHashing = "v2",
) -> FlagdFlagSet:
    """Validate and compile a parsed flagd document into a :class:`FlagdFlagSet`.

    Every problem (schema and targeting) is collected, located as
    ``flags.<key>.<field>`` (or ``$evaluators.<name>...`` for a shared rule).
    By default any problem raises :class:`DefinitionError` (``flagkit
    validate``). With ``isolate_problems=True`` only problems outside every
    flag (the document's shape, its metadata) raise; each broken flag
    resolves to ERROR/PARSE_ERROR while the others work, and a broken
    ``$evaluators`` entry refuses only the flags that use it. The problems
    are kept on the result. ``clock`` supplies ``$flagd.timestamp`` (Unix
    seconds).
    """
    problems: list[Problem] = []
    models: Mapping[str, FlagdFlag | PlainFlag] | None = plain_flags(raw)
    if models is None:  # not plainly valid: the models report every problem
        try:
            models = validate_flagd_document(raw, source=source).flags
        except DefinitionError as exc:
            problems.extend(exc.problems)

    raw_flags = raw.get("flags") if isinstance(raw, Mapping) else None
    raw_evaluators = raw.get("$evaluators") if isinstance(raw, Mapping) else None
    evaluators = raw_evaluators if isinstance(raw_evaluators, Mapping) else {}
    for name, evaluator in evaluators.items():
        # Check every shared rule on its own, so that an unused one is checked too.
        try:
            prepare_logic(
                evaluator,
                evaluators=evaluators,
                flag_key="",
                clock=clock,
                location=("$evaluators", name),
            )
        except DefinitionError as exc:
            problems.extend(exc.problems)
    flag_problems = _problems_by_flag(problems)
    rules: dict[str, PreparedLogic | None] = {}
    texts: dict[str, str] = {}
    if isinstance(raw_flags, Mapping):
        for key, raw_flag in raw_flags.items():
            text = flag_json(raw_flag)
            texts[key] = text if text is not None else repr(raw_flag)
            targeting = raw_flag.get("targeting") if isinstance(raw_flag, Mapping) else None
            if not isinstance(targeting, Mapping) or not targeting:
                rules[key] = None  # absent or {}: no targeting (a non-object is a schema problem)
                continue
            try:
                rules[key] = prepare_logic(
                    targeting,
                    evaluators=evaluators,
                    flag_key=key,
                    clock=clock,
                    location=("flags", key, "targeting"),
                    hashing=hashing,
                    flag_text=text,
                )
            except DefinitionError as exc:
                problems.extend(exc.problems)
                # A problem in a shared rule it uses is this flag's problem too.
                flag_problems.setdefault(key, []).extend(exc.problems)

    document_problems = [
        p for p in problems if p.flag is None and (not p.path or p.path[0] != "$evaluators")
    ]
    if problems and (not isolate_problems or document_problems):
        raise definition_error(problems, source=source)

    # Past this point only flag-level (and evaluator) problems remain
    # (isolate mode), so the document's shape and its metadata are valid.
    assert isinstance(raw, Mapping)
    assert isinstance(raw_flags, Mapping)
    set_metadata = MappingProxyType(dict(raw.get("metadata") or {}))
    flags: dict[str, CompiledFlagdFlag] = {}
    for key, raw_flag in raw_flags.items():
        if key in flag_problems:
            flags[key] = _broken_flag(key, _refusal(key, flag_problems[key], source))
            continue
        model = models[key] if models is not None else FlagdFlag.model_validate(raw_flag)
        flags[key] = _compile_flag(key, model, rules.get(key), set_metadata, texts[key])
    return FlagdFlagSet(
        flags=MappingProxyType(flags),
        metadata=MappingProxyType(set_metadata),
        problems=definition_error(problems, source=source).problems,
        source=source,
    )


def _refusal(key: str, problems: list[Problem], source: str | None) -> str:
    located = "; ".join(str(p) for p in definition_error(problems, source=source).problems)
    return f"flag {key!r} was refused: {located}"


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
        variants=MappingProxyType({}),
        default_variant=None,
        rule=None,
        disabled=False,
        metadata=MappingProxyType({}),
        problem=problem,
    )


_NO_METADATA: Mapping[str, Any] = MappingProxyType({})


def flag_json(raw_flag: Any) -> str | None:
    """Return a flag's JSON, keys sorted, compact (its fingerprint's input, its rule's store).

    None when JSON cannot write it (keys of other types, from YAML).
    """
    try:
        text: str = _ENCODER.encode(raw_flag)
    except (TypeError, ValueError):
        return None
    return text


#: One encoder for every flag: building one per call costs a third of the encoding.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def _compile_flag(
    key: str,
    model: FlagdFlag | PlainFlag,
    rule: PreparedLogic | None,
    set_metadata: Mapping[str, Any],
    text: str,
) -> CompiledFlagdFlag:
    # Flag metadata overrides flag-set metadata key by key (flagd providers spec).
    metadata: Mapping[str, Any] = (
        {**set_metadata, **model.metadata} if model.metadata else set_metadata or _NO_METADATA
    )
    return CompiledFlagdFlag(
        key,
        variants=model.variants,  # the validated model's own dict, never changed
        default_variant=model.default_variant,
        rule=rule,
        disabled=model.state == "DISABLED",
        metadata=metadata,
        text=text,
    )
