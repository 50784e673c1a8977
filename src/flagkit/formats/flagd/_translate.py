"""Translate the common flagd targeting shapes into native plan rules, exactly.

Most targeting in real flagd documents is an ``if`` whose conditions test
one context attribute against literals and whose branches name variants::

    {"if": [{"and": [{"in": [{"var": "country"}, ["NL", "BE"]]},
                     {"==": [{"var": "plan"}, "pro"]}]}, "on", "off"]}

That is a native plan: rules of checks, each serving a fixed outcome. Such a
rule is rendered by ``codegen`` into one flat function, like a native flag,
instead of running a tree of JSON Logic closures (one Python call per node).
``_snapshot`` translates a rule on its flag's first evaluation (when
``head_translates`` says it may), so loading pays nothing for it.

What translates (anything else keeps the closures of ``_jsonlogic``):

- ``if`` (or ``?:``) with literal branches (text, booleans, numbers, null):
  each condition becomes rules serving its branch, the last odd argument
  (or null) the default;
- a condition that is a leaf, an ``and`` of leaves, or an ``or`` of those
  (one rule per alternative, in order, so the reads happen as flagd's);
- leaves on ``{"var": "name"}`` (a top-level key) and literals:
  ``in`` a list of text and ``==`` text become the native ``"in"``/``"eq"``
  checks; ``==`` anything else, ``!=``, ``<``, ``<=``, ``>``, ``>=``,
  ``starts_with``, ``ends_with``, ``sem_ver`` and ``!`` of a leaf become
  ``"call"`` checks running the leaf's own compiled closure.

Exactness, under Go flagd's semantics as ``_jsonlogic`` implements them:

- an exact ``str`` value is compared as text, as the closures do; every
  other value (numbers, null, booleans, subclasses, arrays) goes through the
  same test the closures use (``text_member``, ``text_equal``): flagd's
  loose ``==`` and its ``in`` on numbers hold unchanged;
- every leaf returns a boolean or null, so ``and``/``or``/``if``
  truthiness is Python's, and the branch served is the literal's outcome,
  computed once by the same ``outcome_of`` the closure path uses;
- the rendered function takes an exact ``dict`` context only; any other
  mapping, and any call in which anything raises (a hostile key), is handed
  to the general closure evaluator, which answers exactly as before.

``tests/property/test_flagd_translation.py`` checks that both paths agree on
random translatable rules and hostile contexts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from flagkit._core.codegen import render
from flagkit._core.plan import Check, Plan, Rule
from flagkit._core.snapshot import Evaluator, Outcome
from flagkit.formats.flagd._jsonlogic import compile_logic, text_equal, text_member

__all__ = ["head_translates", "translate_targeting"]

#: Leaves run as ``"call"`` checks (the leaf's own closure); each returns a
#: boolean or null, whose Python truthiness is Go's.
_CALLED: Final = frozenset(
    {"==", "!=", "<", "<=", ">", ">=", "starts_with", "ends_with", "sem_ver"}
)

#: Types of a literal branch or operand (exact: a subclass is never translated).
_SCALARS: Final = frozenset({str, bool, int, float, type(None)})

#: A condition as rules: alternatives (``or``), each a conjunction of checks.
_Alternatives = list[list[Check]]


def head_translates(targeting: Any) -> bool:
    """Return True when ``targeting`` is an ``if`` with literal branches (a cheap first look)."""
    if type(targeting) is not dict or len(targeting) != 1:
        return False
    ((operator, args),) = targeting.items()
    if type(operator) is not str or operator not in _IF or type(args) is not list:
        return False
    # Every branch (odd positions) and the else (the last, when the count is odd).
    return (
        len(args) >= 2
        and _SCALARS.issuperset(map(type, args[1::2]))
        and (type(args[-1]) in _SCALARS)
    )


_IF: Final = frozenset({"if", "?:"})


def translate_targeting(
    targeting: Any,
    *,
    flag_key: str,
    outcomes: Callable[[], Callable[[Any], Outcome]],
    fallback: Evaluator,
) -> Evaluator | None:
    """Return ``targeting`` rendered as one flat function, or None when it does not translate.

    ``outcomes()`` returns the function mapping a targeting result onto the
    flag's outcome, as the closure path maps it (called only for a rule that
    translates); ``fallback`` is the flag's general evaluator, which the
    function hands any other context, or any failure, to.
    """
    if not head_translates(targeting):
        return None
    args = targeting[next(iter(targeting))]
    conditions = [_condition(args[i], flag_key) for i in range(0, len(args) - 1, 2)]
    if any(alternatives is None for alternatives in conditions):
        return None
    outcome_of = outcomes()
    rules = [
        Rule(f"if[{2 * i}]", tuple(checks), outcome_of(args[2 * i + 1]))
        for i, alternatives in enumerate(conditions)
        for checks in alternatives or ()
    ]
    default = outcome_of(args[-1] if len(args) % 2 else None)
    # Own globals: the flag's evaluator takes this function's code and names
    # (``_snapshot._first_call``), which a closure's values could not follow.
    plan = Plan(flag_key, default=default, rules=tuple(rules))
    return render(plan, fallback=fallback, own_globals=True)


def _operation(node: Any) -> tuple[str, Any] | None:
    """Return ``(operator, arguments)`` of a one-key object with an exact ``str`` key."""
    if type(node) is not dict or len(node) != 1:
        return None
    ((operator, args),) = node.items()
    return (operator, args) if type(operator) is str else None


def _condition(node: Any, flag_key: str) -> _Alternatives | None:
    """Return a condition as alternatives of conjunctions, or None."""
    parsed = _operation(node)
    if parsed is not None and parsed[0] == "or":
        items = parsed[1]
        if type(items) is not list or not items:
            return None
        alternatives: _Alternatives = []
        for item in items:
            checks = _conjunction(item, flag_key)
            if checks is None:
                return None
            alternatives.append(checks)
        return alternatives
    checks = _conjunction(node, flag_key)
    return None if checks is None else [checks]


def _conjunction(node: Any, flag_key: str) -> list[Check] | None:
    parsed = _operation(node)
    if parsed is not None and parsed[0] == "and":
        items = parsed[1]
        if type(items) is not list or not items:
            return None
        checks = [_leaf(item, flag_key) for item in items]
        return None if any(check is None for check in checks) else checks  # type: ignore[return-value]
    check = _leaf(node, flag_key)
    return None if check is None else [check]


def _attribute(node: Any) -> str | None:
    """Return ``name`` of ``{"var": "name"}`` when it reads one top-level context key."""
    parsed = _operation(node)
    if parsed is None or parsed[0] != "var":
        return None
    name = parsed[1]
    if type(name) is not str or not name or "." in name or name.startswith("$flagd"):
        return None
    return name


def _leaf(node: Any, flag_key: str) -> Check | None:
    parsed = _operation(node)
    if parsed is None:
        return None
    operator, args = parsed
    if operator == "!":
        inner = args[0] if type(args) is list and len(args) == 1 else args
        return _called(node, operator, args) if _leaf(inner, flag_key) is not None else None
    if type(args) is not list or not 2 <= len(args) <= 3:
        return None
    names = [_attribute(arg) for arg in args]
    if operator == "in":
        haystack = args[1] if len(args) == 2 else None
        if names[0] is None or type(haystack) is not list:
            return None
        if not all(type(item) is str for item in haystack):
            return None
        members, other = text_member(haystack)
        return Check("in", members, names[0], None, "in", tuple(haystack), other=other)
    if not any(names) or any(
        name is None and type(arg) not in _SCALARS for name, arg in zip(names, args, strict=True)
    ):
        return None  # a var of a top-level key and literals only
    if operator == "==" and len(args) == 2 and any(type(arg) is str for arg in args):
        text_at = 1 if type(args[1]) is str else 0
        name = names[1 - text_at]
        if name is not None:
            text = args[text_at]
            return Check("eq", text, name, None, "==", (text,), other=text_equal(text))
    if operator in _CALLED:
        return _called(node, operator, args)
    return None


def _called(node: Any, operator: str, args: Any) -> Check:
    """Return a ``"call"`` check running ``node``'s own compiled closure (a boolean)."""
    compiled = compile_logic(node, flag_key="")
    test = compiled.node
    assert test is not None  # a leaf on a top-level key never reads ``$flagd``
    return Check("call", test, "", None, operator, tuple(args) if type(args) is list else (args,))
