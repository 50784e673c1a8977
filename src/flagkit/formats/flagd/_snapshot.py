"""Turn a flagd document into a flagkit :class:`~flagkit._core.snapshot.Snapshot`.

The flagd compiler (:mod:`flagkit.formats.flagd._compile`) validates the
document and compiles its targeting to closures; this module wraps each flag
as a :class:`~flagkit._core.snapshot.CompiledFlag` whose evaluator returns
*prebuilt* outcomes, so a flagd flag runs on the client's hot path exactly
like a native one:

- no targeting, disabled, or broken: a constant lambda returning one outcome;
- targeting: the rule's result (a variant name) is looked up in a table of
  prebuilt TARGETING_MATCH outcomes; null serves the default variant (DEFAULT);
- a targeting that is a bare ``fractional`` over literal buckets bucketing by
  the targeting key (the common percentage rollout) skips the JSON Logic
  closures altogether: hash, scale, compare, like a native rollout.

flagd's reasons and error codes map one to one onto flagkit's ``Reason`` and
``ErrorCode`` (they share OpenFeature's names). A flagd rollout reports
TARGETING_MATCH, not flagkit's SPLIT, and no bucket: flagd does neither.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from types import CodeType, FunctionType
from typing import Any, Final

from flagkit._core.bucketing import string_key
from flagkit._core.codegen import compiled_flag, refused_flag
from flagkit._core.details import ErrorCode, Reason
from flagkit._core.plan import Call, Plan, Split
from flagkit._core.snapshot import CompiledFlag, Evaluator, Outcome, Resolution, Snapshot
from flagkit._core.snapshot import ValueType as NativeType
from flagkit._errors import describe
from flagkit._types import Clock, ContextLike
from flagkit.formats.flagd._compile import (
    CompiledFlagdFlag,
    compile_flagd_document,
    flag_json,
    variant_name,
)
from flagkit.formats.flagd._govalues import GoPanic
from flagkit.formats.flagd._jsonlogic import EvaluationFailure, PreparedLogic
from flagkit.formats.flagd._operators import FlagdHashing, parse_buckets
from flagkit.formats.flagd._translate import head_translates, translate_targeting

__all__ = ["looks_like_flagd", "snapshot_from_flagd"]


_NO_METADATA: Final[Mapping[str, Any]] = {}


def looks_like_flagd(raw: Any) -> bool:
    """Return True when parsed data is a flagd document rather than a native one.

    A ``$schema`` naming flagd decides at once. Otherwise the flags decide:
    flagd flags carry ``state`` or ``defaultVariant`` and never the native
    ``default`` (which every native flag must have); a document with
    ``$evaluators`` is flagd too. An empty or ambiguous document is native.
    """
    if not isinstance(raw, Mapping):
        return False
    schema = raw.get("$schema")
    if isinstance(schema, str) and "flagd" in schema.lower():
        return True
    if "$evaluators" in raw:
        return True
    flags = raw.get("flags")
    if not isinstance(flags, Mapping) or not flags:
        return False
    entries = [flag for flag in flags.values() if isinstance(flag, Mapping)]
    if not entries or any("default" in flag for flag in entries):
        return False
    return any("state" in flag or "defaultVariant" in flag for flag in entries)


def snapshot_from_flagd(
    raw: Any,
    *,
    origin: str = "<memory>",
    revision: str = "",
    clock: Clock | None = None,
    keep_definitions: bool = False,
    isolate: bool = True,
    hashing: FlagdHashing = "v2",
) -> Snapshot:
    """Validate and compile a parsed flagd document into a Snapshot.

    Problems are located as ``flags.<key>.<field>``, like the native format.
    With ``isolate`` (how a client serves a document), a flag that cannot be
    compiled is refused on its own: it resolves to ERROR/PARSE_ERROR, the
    other flags are served, and the snapshot lists the problems and the
    refused keys. Only a problem outside every flag raises
    :class:`~flagkit.DefinitionError`. Without ``isolate`` (``flagkit
    validate``), any problem raises, listing every one. ``hashing`` is how
    ``fractional`` hashes: ``"v2"`` (Go flagd, the JavaScript core, and
    flagkit's own rollouts) or ``"v3"`` (flagd-core 2.0's CBOR hashing).
    """
    source = None if origin == "<memory>" else origin
    flag_set = compile_flagd_document(
        raw, source=source, clock=clock or time.time, isolate_problems=isolate, hashing=hashing
    )
    evaluators = raw.get("$evaluators") or {}
    set_metadata = raw.get("metadata") or {}
    flags: dict[str, CompiledFlag] = {}
    refused = []
    shared = (
        json.dumps(set_metadata, sort_keys=True, default=str),
        json.dumps(evaluators, sort_keys=True, default=str),
    )
    for key, compiled in flag_set.flags.items():
        raw_flag = raw["flags"][key]
        fingerprint = _fingerprint(compiled.text or flag_json(raw_flag) or repr(raw_flag), shared)
        definition = raw_flag if keep_definitions else None
        if compiled.problem is not None:
            refused.append(key)
            flags[key] = refused_flag(
                key, compiled.problem, fingerprint=fingerprint, definition=definition
            )
            continue
        flags[key] = _compiled_flag(
            key,
            compiled,
            _inline_ref(raw_flag.get("targeting"), evaluators),
            fingerprint=fingerprint,
            definition=definition,
            hashing=hashing,
        )
    return Snapshot(
        flags=flags,
        origin=origin,
        format="flagd",
        loaded_at=time.time(),
        revision=revision,
        document=raw if keep_definitions else None,
        problems=flag_set.problems,
        refused=frozenset(refused),
    )


def _fingerprint(text: str, shared: tuple[str, str]) -> str:
    # A flag changes when its own JSON (``text``), the flag-set metadata it
    # inherits, or (when it refers to any) the shared evaluators change.
    # ``shared`` is the metadata's and the evaluators' JSON, written once.
    metadata, evaluators = shared
    parts = [text, metadata, evaluators] if '"$ref":' in text else [text, metadata]
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=12).hexdigest()


def _inline_ref(targeting: Any, evaluators: Mapping[str, Any]) -> Any:
    """Follow top-level ``{"$ref": name}`` links (the compiler already refused cycles)."""
    seen = 0
    while isinstance(targeting, Mapping) and list(targeting) == ["$ref"] and seen < 64:
        targeting = evaluators.get(targeting["$ref"])
        seen += 1
    return targeting


def _value_type(variants: Mapping[str, Any]) -> NativeType:
    values = list(variants.values())
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, str) for v in values):
        return "str"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "float"
    return "object"


def _compiled_flag(
    key: str,
    flag: CompiledFlagdFlag,
    targeting: Any,
    *,
    fingerprint: str,
    definition: Any,
    hashing: FlagdHashing,
) -> CompiledFlag:
    variants: Mapping[str, Any] = flag.variants
    value_type = _value_type(variants) if variants else "bool"
    if value_type == "float":
        variants = {name: float(value) for name, value in variants.items()}
    return compiled_flag(
        _plan(key, flag, variants, targeting, hashing),
        value_type=value_type,
        variants=variants,
        definition=definition,
        fingerprint=fingerprint,
        metadata=flag.metadata or _NO_METADATA,
    )


def _plan(
    key: str,
    flag: CompiledFlagdFlag,
    variants: Mapping[str, Any],
    targeting: Any,
    hashing: FlagdHashing,
) -> Plan:
    """Return the flag's plan, with every outcome prebuilt as flagd resolves it."""
    if flag.disabled:
        off = Resolution(key, reason=Reason.DISABLED, has_value=False).outcome
        return Plan(key, default=off, disabled=off)

    rule = flag.rule
    if rule is None:
        return Plan(key, default=_from_default(key, variants, flag.default_variant, Reason.STATIC))
    if hashing == "v2" and _bare_fractional(targeting) is not None:
        outcome_of = _outcomes(key, variants, flag.default_variant)[0]
        split = _fractional_split(key, targeting, outcome_of)
        if split is not None:
            return Plan(key, default=split)
    if head_translates(targeting):  # likely one flat function, like a native flag
        evaluate = _translating_evaluator(key, rule, variants, flag.default_variant, targeting)
    else:
        evaluate = _lazy_evaluator(key, rule, variants, flag.default_variant)
    return Plan(key, default=Call(evaluate, "JSON Logic targeting"))


def _from_default(
    key: str, variants: Mapping[str, Any], default_variant: str | None, reason: Reason
) -> Outcome:
    if default_variant is None:
        # flagd: no default variant means the caller's default, reason DEFAULT.
        return Resolution(key, reason=Reason.DEFAULT, has_value=False).outcome
    value = variants[default_variant]
    return Resolution(key, value=value, variant=default_variant, reason=reason).outcome


def _outcomes(
    key: str, variants: Mapping[str, Any], default_variant: str | None
) -> tuple[Callable[[Any], Outcome], Callable[[Any], Outcome | None]]:
    """Return (outcome of any targeting result, the match of a variant name that names itself)."""
    default = _from_default(key, variants, default_variant, Reason.DEFAULT)
    matches = {
        name: Resolution(key, value=value, variant=name, reason=Reason.TARGETING_MATCH).outcome
        for name, value in variants.items()
    }

    def outcome_of(result: Any) -> Outcome:
        """Map a targeting result onto an outcome, as Go flagd does."""
        if result is None:
            return default
        if type(result) is EvaluationFailure:  # type(): a result cannot pose as one
            code = ErrorCode.PARSE_ERROR if result.parse_error else ErrorCode.GENERAL
            return _error(key, code, f"flag {key!r} targeting failed: {result.message}")
        try:
            name = variant_name(result)
        except GoPanic as exc:  # NaN or an infinity: flagd cannot encode the result
            return _error(key, ErrorCode.PARSE_ERROR, f"flag {key!r} targeting failed: {exc}")
        except Exception as exc:  # a result nested past the recursion limit
            return _error(key, ErrorCode.GENERAL, f"flag {key!r} targeting failed: {describe(exc)}")
        match = matches.get(name)
        if match is None:
            # The name flagd looks up, cut: a result from the context may be huge.
            shown = name if len(name) <= 64 else f"{name[:64]}..."
            message = f"flag {key!r} targeting returned {shown!r}, which names no variant"
            return _error(key, ErrorCode.GENERAL, message)
        return match

    # The usual result is text naming a variant; these names name themselves.
    direct = {name: match for name, match in matches.items() if variant_name(name) == name}
    return outcome_of, direct.get


def _lazy_evaluator(
    key: str,
    rule: PreparedLogic,
    variants: Mapping[str, Any],
    default_variant: str | None,
) -> Callable[[ContextLike], Outcome]:
    """Return the flag's evaluator; its rule and outcomes are built on the first evaluation.

    The rule was checked at load (``prepare_logic``), so nothing can be refused
    here. After the first call the evaluator runs the rule's node directly,
    with no indirection: the first call rebinds the closure's cells, setting
    ``run`` last, so a concurrent first call sees either the old state (and
    builds its own, equal one) or the complete new one.
    """
    # Few cells: a document of 10,000 flags holds one evaluator each.
    spec = (key, rule, variants, default_variant)
    outcome_of: Callable[[Any], Outcome]
    get_match: Callable[[Any], Outcome | None]
    run: Callable[[Any], Any]

    def first(ctx: ContextLike) -> Any:
        nonlocal outcome_of, get_match, run
        key, rule, variants, default_variant = spec
        outcome_of, get_match = _outcomes(key, variants, default_variant)
        logic = rule.compiled()
        # The node, unguarded when it can run on the context as given; a
        # failure runs the guarded rule, which reports it (rules are pure).
        run = logic.node or logic
        return run(ctx)

    run = first

    def evaluate(ctx: ContextLike) -> Outcome:
        try:
            result = run(ctx)
        except Exception:
            result = spec[1](ctx)
        if type(result) is str:
            match = get_match(result)
            if match is not None:
                return match
        return outcome_of(result)

    return evaluate


def _translating_evaluator(
    key: str,
    rule: PreparedLogic,
    variants: Mapping[str, Any],
    default_variant: str | None,
    targeting: Any,
) -> Evaluator:
    """Return the flag's evaluator, which translates its rule on the first call (``_translate``).

    Translating costs about as much as the rest of a load, so it waits for
    the flag's first evaluation (most flags of a large document are rarely
    evaluated). Until then the evaluator is a one-line function holding what
    translating needs; its first call builds the closure evaluator
    (``_lazy_evaluator``) and the translation, then takes the rendered
    function's code and the names it reads (``__code__`` and globals), so
    every later call runs the flat function with no call in between. A rule
    that does not translate takes code that calls the closure evaluator.
    Two threads may both translate at first: their results are equal, and
    the names are always set before the code that reads them.
    """
    namespace: dict[str, Any] = {"_first": _first_call}
    evaluate: Evaluator = FunctionType(_TRAMPOLINE, namespace)
    namespace["_pending"] = (evaluate, key, rule, variants, default_variant, targeting)
    return evaluate


#: What a first call needs: the evaluator, the flag's key, rule, variants, default, targeting.
_Pending = tuple[Any, str, PreparedLogic, Mapping[str, Any], str | None, Any]


def _first_call(ctx: ContextLike, pending: _Pending) -> Outcome:
    """Translate on the first call: become the flat function, or call the closures."""
    evaluate, key, rule, variants, default_variant, targeting = pending
    fallback = _lazy_evaluator(key, rule, variants, default_variant)
    try:
        flat = translate_targeting(
            targeting,
            flag_key=key,
            outcomes=lambda: _outcomes(key, variants, default_variant)[0],
            fallback=fallback,
        )
    except Exception:  # never expected; the closures answer all the same
        flat = None
    namespace = evaluate.__globals__
    if flat is None:
        namespace["_fallback"] = fallback
        evaluate.__code__ = _FORWARD
        return fallback(ctx)
    namespace.update(flat.__globals__)  # the names first: the code reads them
    evaluate.__code__ = flat.__code__
    return flat(ctx)


def _function_code(source: str) -> CodeType:
    code: CodeType = compile(source, "<flagd targeting>", "exec").co_consts[0]
    return code


#: An evaluator before its first call, and one whose rule did not translate.
_TRAMPOLINE: Final = _function_code("def evaluate(ctx):\n    return _first(ctx, _pending)\n")
_FORWARD: Final = _function_code("def evaluate(ctx):\n    return _fallback(ctx)\n")


def _error(key: str, code: ErrorCode, message: str) -> Outcome:
    return Resolution(
        key, reason=Reason.ERROR, error_code=code, error_message=message, has_value=False
    ).outcome


def _bare_fractional(targeting: Any) -> list[Any] | None:
    """Return the arguments of a targeting that is one ``fractional``, else None."""
    if type(targeting) is not dict or len(targeting) != 1:
        return None
    specs = targeting.get("fractional")
    return specs if isinstance(specs, list) and specs else None


def _fractional_split(
    key: str, targeting: Any, outcome_of: Callable[[Any], Outcome]
) -> Split | None:
    """Plan ``{"fractional": [[variant, weight], ...]}`` as a native-speed rollout.

    Only literal buckets with the default bucketing value qualify: flagd
    hashes ``$flagd.flagKey + targetingKey`` (fractional v2, the same formula
    as ``bucket_of`` with the flag key as salt); a targeting key that is not
    a string makes fractional return null, which serves the default variant.
    Anything else returns None and runs through the compiled JSON Logic.
    """
    specs = _bare_fractional(targeting)
    if specs is None:
        return None
    literal = all(
        isinstance(spec, list) and all(not isinstance(x, (list, Mapping)) for x in spec)
        for spec in specs
    )
    parsed = parse_buckets(specs) if literal else None
    if parsed is None or parsed[1] == 0:
        return None
    buckets, total = parsed
    return Split(
        salt=key,
        attribute="targetingKey",
        getter=None,
        key_of=string_key,
        weights=tuple((outcome_of(variant)[0], weight) for variant, weight in buckets),
        total=total,
        missing=outcome_of(None),
        report_bucket=False,
    )
