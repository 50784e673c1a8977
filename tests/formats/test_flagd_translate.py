"""The common flagd targeting shapes run as one flat function (``_translate``), lazily.

``tests/property/test_flagd_translation.py`` checks the translation's
answers against the closures; these tests pin what translates, that the
translation happens on the first evaluation, and that a client serves it.
"""

from __future__ import annotations

import threading
from types import MappingProxyType
from typing import Any

import flagkit
from flagkit.formats.flagd._compile import compile_flagd_document
from flagkit.formats.flagd._snapshot import _outcomes, _translating_evaluator
from flagkit.formats.flagd._translate import head_translates, translate_targeting
from tests.property.test_flagd_translation import VARIANTS, evaluators

RULE = {
    "if": [
        {"and": [{"in": [{"var": "country"}, ["NL", "BE"]]}, {"==": [{"var": "plan"}, "pro"]}]},
        "on",
        "off",
    ]
}


def _outcomes_of_f() -> Any:
    return _outcomes("f", VARIANTS, "off")[0]


def test_the_common_rule_translates_to_native_checks() -> None:
    """``in`` a list and ``==`` a text render as inline checks, with no call per check."""
    translated, closure, handed = evaluators(RULE)
    names = translated.__code__.co_names
    assert {"_r0c0", "_r0c1", "_r0c0_other", "_r0c1_other"} <= set(names)
    for country, plan, variant in [("NL", "pro", "on"), ("FR", "pro", "off"), ("BE", 1, "off")]:
        context = {"country": country, "plan": plan}
        assert variant == translated(context)[0].variant == closure(context)[0].variant
    assert [] == handed


def test_shapes_that_do_not_translate_keep_the_closures() -> None:
    """Branches that are not literals, nested paths and other operators are not translated."""
    for rule in [
        {"if": [{"in": [{"var": "a"}, ["x"]]}, {"var": "b"}, "off"]},
        {"if": [{"in": [{"var": "a.b"}, ["x"]]}, "on", "off"]},
        {"if": [{"in": [{"var": "$flagd.flagKey"}, ["x"]]}, "on", "off"]},
        {"if": [{"cat": [{"var": "a"}, "x"]}, "on", "off"]},
        {"if": [{"and": [{"or": [{"==": [{"var": "a"}, "x"]}]}]}, "on", "off"]},
        {"if": [{"in": [{"var": "a"}, ["x", 1]]}, "on", "off"]},
        {"if": [{"<": [{"var": "a"}, [1]]}, "on", "off"]},
        {"if": [{"in": [{"var": "a"}, ["x"]]}]},
        {"fractional": [["on", 50], ["off", 50]]},
    ]:
        translated = translate_targeting(
            rule, flag_key="f", outcomes=_outcomes_of_f, fallback=print
        )
        assert translated is None, rule


def _first_use(rule: dict[str, Any]) -> Any:
    """Return the evaluator a flagd snapshot builds for ``rule``, before any evaluation."""
    document = {"flags": {"f": {"variants": VARIANTS, "defaultVariant": "off", "targeting": rule}}}
    prepared = compile_flagd_document(document).flags["f"].rule
    assert prepared is not None
    return _translating_evaluator("f", prepared, VARIANTS, "off", rule)


def test_translation_waits_for_the_first_evaluation_then_takes_its_place() -> None:
    """Loading builds no plan; the first call becomes the flat function, with no call between."""
    evaluate = _first_use(RULE)
    assert {"_first", "_pending"} == set(evaluate.__code__.co_names)
    assert "on" == evaluate({"country": "NL", "plan": "pro"})[0].variant
    assert {"_r0c0", "_r0c1", "_r0", "_d"} <= set(evaluate.__code__.co_names)
    assert "off" == evaluate({"country": "FR", "plan": "pro"})[0].variant
    assert "on" == evaluate({"country": "BE", "plan": "pro"})[0].variant


def test_a_rule_that_does_not_translate_after_all_calls_its_closures() -> None:
    """An ``if`` whose head looks translatable but whose condition is not runs the closures."""
    rule = {"if": [{"starts_with": [{"var": "a.b"}, "x"]}, "on", "off"]}
    assert head_translates(rule)
    evaluate = _first_use(rule)
    assert "on" == evaluate({"a": {"b": "xy"}})[0].variant
    assert ("_fallback",) == evaluate.__code__.co_names
    assert "off" == evaluate({"a": "z"})[0].variant
    assert not head_translates({"fractional": [["on", 50], ["off", 50]]})
    assert not head_translates({"if": [{"var": "a"}, {"var": "b"}, "off"]})


def test_a_client_serves_translated_rules_with_flagd_semantics() -> None:
    """Through a client: flagd's loose ``==``, ``in`` on numbers, and non-dict contexts."""
    document = {
        "flags": {
            "f": {
                "state": "ENABLED",
                "variants": {"on": True, "off": False},
                "defaultVariant": "off",
                "targeting": {
                    "if": [
                        {"or": [{"==": [{"var": "n"}, "1"]}, {"in": [{"var": "m"}, ["2", "x"]]}]},
                        "on",
                        "off",
                    ]
                },
            }
        }
    }
    client = flagkit.Client.from_dict(document, format="flagd")
    assert client.get_bool("f", False, {"n": 1}) is True  # "1" == 1 in Go's jsonlogic
    assert client.get_bool("f", False, {"n": 1.0}) is True
    assert client.get_bool("f", False, {"m": 2}) is True  # a number in a list of text
    assert client.get_bool("f", False, {"m": 0}) is True  # "x" reads as the number 0
    assert client.get_bool("f", False, {"n": None, "m": None}) is False
    assert client.get_bool("f", False, {"n": True}) is True  # true is 1
    assert client.get_bool("f", False, MappingProxyType({"n": 1})) is True  # by the closures
    assert client.get_bool("f", True, MappingProxyType({"n": 2})) is False
    details = client.get_bool_details("f", True, {"n": "2"})
    assert (False, "off", "TARGETING_MATCH") == (details.value, details.variant, details.reason)


def test_threads_racing_on_the_first_evaluation_all_get_the_right_answer() -> None:
    """Several threads may translate at once: every one of them answers correctly."""
    contexts = [{"country": c, "plan": p} for c in ("NL", "FR", "BE") for p in ("pro", "free")]
    expected = ["on" if c["country"] != "FR" and c["plan"] == "pro" else "off" for c in contexts]
    for _ in range(20):
        evaluate = _first_use(RULE)
        barrier = threading.Barrier(6)
        answers: list[list[str | None]] = []

        def run(
            evaluate: Any = evaluate,
            barrier: threading.Barrier = barrier,
            answers: list[list[str | None]] = answers,
        ) -> None:
            barrier.wait()
            answers.append([evaluate(context)[0].variant for context in contexts])

        threads = [threading.Thread(target=run) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [expected] * 6 == answers
