"""The JSON Logic compiler: reference operators, flagd's custom operators, problems."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import mmh3
import pytest

from flagkit._core.bucketing import bucket_of
from flagkit._errors import DefinitionError
from flagkit.formats._problems import dotted
from flagkit.formats.flagd._govalues import is_true as truthy
from flagkit.formats.flagd._govalues import json_text
from flagkit.formats.flagd._jsonlogic import EvaluationFailure, compile_logic


def run(rule: Any, data: Mapping[str, Any] | None = None, **options: Any) -> Any:
    """Compile ``rule`` for flag ``flag`` and evaluate it against ``data``."""
    options.setdefault("flag_key", "flag")
    return compile_logic(rule, **options)(data if data is not None else {})


def problems_of(rule: Any, **options: Any) -> list[tuple[str, str]]:
    """Return the (dotted path, message) of every problem compiling ``rule`` reports."""
    options.setdefault("flag_key", "flag")
    with pytest.raises(DefinitionError) as caught:
        compile_logic(rule, **options)
    return [(dotted(problem.path), problem.message) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (False, False),
        (0, False),
        (0.0, False),
        (math.nan, True),
        ("", False),
        ([], False),
        (True, True),
        (1, True),
        (-1.5, True),
        ("0", True),
        ("false", True),
        ([0], True),
        ({}, False),
        ({"a": 1}, True),
    ],
)
def test_truthiness_follows_go_flagd(value: Any, expected: bool) -> None:
    """Go jsonlogic's truthiness: empty text, arrays and objects are falsy, NaN is truthy."""
    assert expected == truthy(value)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"if": [True, "yes", "no"]}, "yes"),
        ({"if": [False, "yes", "no"]}, "no"),
        ({"if": [False, "yes"]}, None),
        ({"if": [False, "yes", False, "no", "maybe"]}, "maybe"),
        ({"if": [False, "yes", False, "no", False, "maybe", "who knows"]}, "who knows"),
        ({"if": [False, "a", True, "b", "c"]}, "b"),
        ({"if": []}, None),
        ({"if": ["only"]}, "only"),
        ({"?:": [True, 1, 2]}, 1),
        ({"if": [[], "yes", "no"]}, "no"),
        ({"if": ["0", "yes", "no"]}, "yes"),
    ],
)
def test_if(rule: Any, expected: Any) -> None:
    """``if`` picks the branch after the first truthy test, with chained else-ifs."""
    assert expected == run(rule)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"==": [1, 1]}, True),
        ({"==": [1, "1"]}, True),
        ({"==": [0, False]}, True),
        ({"==": ["", 0]}, True),
        ({"==": [None, 0]}, False),
        ({"==": [None, None]}, True),
        ({"==": ["a", "a"]}, True),
        ({"==": [[1], 1]}, False),
        ({"==": [True, "1"]}, True),
        ({"==": [" ", 0]}, True),
        ({"===": [[1], [1]]}, False),
        ({"==": [1.0, 1]}, True),
        ({"===": [1, 1.0]}, True),
        ({"===": [1, "1"]}, False),
        ({"===": [True, 1]}, False),
        ({"===": [None, None]}, True),
        ({"!=": [1, 2]}, True),
        ({"!=": [1, "1"]}, False),
        ({"!==": [1, 2]}, True),
        ({"!==": [1, "1"]}, True),
        ({"!": ["mike"]}, False),
        ({"!": [""]}, True),
        ({"!": [[]]}, True),
        ({"!": True}, False),
        ({"!!": ["mike"]}, True),
        ({"!!": [""]}, False),
        ({"!!": [[]]}, False),
    ],
)
def test_equality_and_negation(rule: Any, expected: Any) -> None:
    """``==`` compares text as text, else as numbers; ``===`` also needs one kind."""
    assert expected == run(rule)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"and": [True, False]}, False),
        ({"and": [True, True]}, True),
        ({"and": [1, "a", 3]}, 3),
        ({"and": [1, "", 3]}, ""),
        ({"or": [True, False]}, True),
        ({"or": [False, False]}, False),
        ({"or": [0, "", "x"]}, "x"),
        ({"or": [0, ""]}, ""),
    ],
)
def test_and_or_return_the_deciding_value(rule: Any, expected: Any) -> None:
    """``and``/``or`` short-circuit and return the value that decided."""
    assert expected == run(rule)


def test_and_short_circuits() -> None:
    """``and`` stops at the first falsy value without evaluating the rest."""
    assert run({"and": [False, {"/": [{"var": "x"}, {"var": "missing"}]}]}) is False


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({">": [2, 1]}, True),
        ({">": [1, 2]}, False),
        ({">=": [1, 1]}, True),
        ({"<": [1, 2]}, True),
        ({"<=": [1, 1]}, True),
        ({"<=": [2, 1]}, False),
        ({"<": [1, 5, 10]}, True),
        ({"<": [1, 11, 10]}, False),
        ({"<": [1, 1, 10]}, False),
        ({"<=": [1, 1, 10]}, True),
        ({"<=": [1, 11, 10]}, False),
        ({"<": ["2", 10]}, True),
        ({"<": ["a", "b"]}, True),
        ({"<": ["10", "9"]}, True),
        ({">": ["a", 1]}, False),
        ({"<": [None, 1]}, True),
    ],
)
def test_comparisons(rule: Any, expected: Any) -> None:
    """Comparisons coerce to numbers unless both sides are strings; 3 args mean between."""
    assert expected == run(rule)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"in": ["Spring", "Springfield"]}, True),
        ({"in": ["Illinois", "Springfield"]}, False),
        ({"in": ["Mike", ["Bob", "Mike"]]}, True),
        ({"in": ["Todd", ["Bob", "Mike"]]}, False),
        ({"in": [1, ["1"]]}, True),
        ({"in": [0, ["x"]]}, True),
        ({"in": ["a", [["a", "b"]]]}, True),  # a range: text reads as 0, 0 <= 0 <= 0
        ({"in": [5, [[1, 10]]]}, True),
        ({"in": ["x", None]}, False),
        ({"cat": ["I love", " pie"]}, "I love pie"),
        ({"cat": ["a", 1, 2.5, None, 1e21]}, "a12.51000000000000000000000"),
        ({"cat": [" a ", " "]}, "a"),
        ({"cat": [" a "]}, " a "),
        ({"cat": "text"}, "text"),
        ({"cat": []}, ""),
        ({"substr": ["jsonlogic", 4]}, "logic"),
        ({"substr": ["jsonlogic", -5]}, "logic"),
        ({"substr": ["jsonlogic", 1, 3]}, "son"),
        ({"substr": ["jsonlogic", 4, -2]}, "log"),
        ({"substr": ["jsonlogic", -99, 2]}, "jsonlogic"),
        (
            {"substr": ["jsonlogic", 3, -7]},
            EvaluationFailure("runtime error: slice bounds out of range [3:2]"),
        ),
        ({"starts_with": ["192.168.0.1", "192.168"]}, True),
        ({"starts_with": ["10.0.0.1", "192.168"]}, False),
        ({"starts_with": [1, "1"]}, None),
        ({"ends_with": ["noreply@example.com", "@example.com"]}, True),
        ({"ends_with": ["noreply@example.com", "@test.com"]}, False),
        ({"ends_with": ["a", None]}, None),
    ],
)
def test_string_operators(rule: Any, expected: Any) -> None:
    """``in``, ``cat``, ``substr``, ``starts_with`` and ``ends_with`` behave as in Go flagd."""
    assert expected == run(rule)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"+": [4, 2]}, 6),
        ({"+": [2, 2, 2, 2, 2]}, 10),
        ({"+": ["3.14"]}, 3.14),
        ({"+": []}, 0),
        ({"-": [4, 2]}, 2),
        ({"-": [2]}, -2),
        ({"-": ["5", "2"]}, 3),
        ({"*": [4, 2]}, 8),
        ({"*": [2, 2, 2]}, 8),
        ({"*": ["1.5", 2]}, 3.0),
        ({"/": [4, 2]}, 2.0),
        ({"/": [1, 0]}, math.inf),
        ({"/": [-1, 0]}, -math.inf),
        ({"%": [101, 2]}, 1),
        ({"%": [-7, 3]}, -1),
        ({"%": [7.5, 2]}, 1.5),
        ({"min": [1, 2, 3]}, 1),
        ({"max": [1, 2, 3]}, 3),
        ({"max": ["7", 3]}, 7),
        ({"min": []}, None),
        ({"+": ["abc"]}, 0.0),
        ({"max": [1, "x"]}, 1.0),
        ({"abs": -2}, 2.0),
        ({"-": []}, 0),
    ],
)
def test_arithmetic(rule: Any, expected: Any) -> None:
    """Arithmetic reads text as numbers (0 when it cannot) and yields Infinity, not errors."""
    assert expected == run(rule)


@pytest.mark.parametrize("rule", [{"/": [0, 0]}, {"%": [1, 0]}, {"%": [{"/": [1, 0]}, 1]}])
def test_arithmetic_not_a_number(rule: Any) -> None:
    """Undefined arithmetic yields NaN, as in Go."""
    assert math.isnan(run(rule))


@pytest.mark.parametrize(
    "rule",
    [{"*": [None, 1]}, {"+": [True, 1]}, {"-": 5}, {"%": [1]}, {"==": 1}, {"and": True}],
)
def test_what_go_panics_on_is_a_parse_failure(rule: Any) -> None:
    """Go's type assertions on arguments fail: the evaluation is a PARSE_ERROR failure."""
    result = run(rule)
    assert isinstance(result, EvaluationFailure)
    assert result.parse_error


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"var": "a"}, {"a": 1}, 1),
        ({"var": ["a"]}, {"a": 1}, 1),
        ({"var": "user.email"}, {"user": {"email": "x@y"}}, "x@y"),
        ({"var": "user.email"}, {"user": None}, None),
        ({"var": ["z", 26]}, {"a": 1}, 26),
        ({"var": ["a", 26]}, {"a": None}, 26),
        ({"var": ["a", 26]}, {"a": 0}, 0),
        ({"var": "list.1"}, {"list": ["a", "b"]}, "b"),
        ({"var": 1}, {"1": "one"}, "one"),
        ({"var": "list.9"}, {"list": ["a"]}, None),
        ({"var": ""}, {"a": 1}, None),
        ({"var": {"cat": ["a", ".b"]}}, {"a": {"b": 2}}, 2),
        ({"var": "targetingKey"}, {"targetingKey": "user-1"}, "user-1"),
    ],
)
def test_var(rule: Any, data: Mapping[str, Any], expected: Any) -> None:
    """``var`` reads dotted paths and array indexes, with a default for null or missing."""
    actual = run(rule, data)
    if rule == {"var": ""}:
        assert data.items() <= actual.items()  # the whole context, plus $flagd
    else:
        assert expected == actual


def test_flagd_properties() -> None:
    """``$flagd.flagKey`` is the flag's key and ``$flagd.timestamp`` the clock's whole seconds."""
    expected = ["my-flag", 1700000000]
    actual = run(
        [{"var": "$flagd.flagKey"}, {"var": "$flagd.timestamp"}],
        {"$flagd": {"flagKey": "spoofed"}},
        flag_key="my-flag",
        clock=lambda: 1700000000.9,
    )
    assert expected == actual


def test_flagd_object_overrides_the_context() -> None:
    """A caller-supplied ``$flagd`` is replaced, as flagd does."""
    expected = {"flagKey": "f", "timestamp": 5}
    actual = run({"var": "$flagd"}, {"$flagd": {"x": 1}}, flag_key="f", clock=lambda: 5)
    assert expected == actual


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"missing": ["a", "b"]}, {"a": "apple", "c": "carrot"}, ["b"]),
        ({"missing": ["a", "b"]}, {"a": "apple", "b": "banana"}, []),
        ({"missing": ["a", "b"]}, {"a": "", "b": None}, ["b"]),
        ({"missing": "a"}, {}, ["a"]),
        ({"missing": ["a.b"]}, {"a": {"b": 1}}, []),
        ({"missing_some": [1, ["a", "b", "c"]]}, {"a": "apple"}, []),
        ({"missing_some": [2, ["a", "b", "c"]]}, {"a": "apple"}, ["b", "c"]),
        ({"if": [{"missing": ["a"]}, "missing", "present"]}, {"a": 1}, "present"),
    ],
)
def test_missing(rule: Any, data: Mapping[str, Any], expected: Any) -> None:
    """``missing`` lists absent or null keys (not empty ones); ``missing_some`` needs a minimum."""
    assert expected == run(rule, data)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"merge": [[1, 2], [3, 4]]}, [1, 2, 3, 4]),
        ({"merge": [1, 2, [3, 4]]}, [1, 2, 3, 4]),
        ({"merge": []}, []),
        ({"map": [[1, 2, 3], {"*": [{"var": ""}, 2]}]}, [2, 4, 6]),
        ({"map": [None, {"var": ""}]}, []),
        ({"filter": [[1, 2, 3, 4], {"%": [{"var": ""}, 2]}]}, [1, 3]),
        (
            {"reduce": [[1, 2, 3], {"+": [{"var": "current"}, {"var": "accumulator"}]}, 10]},
            16,
        ),
        ({"reduce": ["x", {"var": "current"}, 0]}, 0),
        ({"all": [[1, 2, 3], {">": [{"var": ""}, 0]}]}, True),
        ({"all": [[1, -2], {">": [{"var": ""}, 0]}]}, False),
        ({"all": [[], {">": [{"var": ""}, 0]}]}, False),
        ({"some": [[-1, 2], {">": [{"var": ""}, 0]}]}, True),
        ({"some": [[], {">": [{"var": ""}, 0]}]}, False),
        ({"none": [[-1, -2], {">": [{"var": ""}, 0]}]}, True),
        ({"none": [[], {">": [{"var": ""}, 0]}]}, True),
    ],
)
def test_array_operators(rule: Any, expected: Any) -> None:
    """``merge``, ``map``, ``filter``, ``reduce``, ``all``, ``some`` and ``none``."""
    assert expected == run(rule)


def test_array_operators_read_the_context() -> None:
    """The array argument is evaluated against the context, the logic per element."""
    expected = ["x-a", "x-b"]
    actual = run({"map": [{"var": "items"}, {"cat": ["x-", {"var": ""}]}]}, {"items": ["a", "b"]})
    assert expected == actual


@pytest.mark.parametrize(
    ("left", "operator", "right", "expected"),
    [
        ("1.1.2", ">=", "1.0.0", True),
        ("1.0.0", "=", "1.0.0", True),
        ("1.0.0", "!=", "1.0.1", True),
        ("1.0.0", "<", "1.0.1", True),
        ("1.0.9", "<", "1.0.10", True),
        ("2.0.0", ">", "1.9.9", True),
        ("1.0.0", "<=", "1.0.0", True),
        ("v1.2.3", "=", "1.2.3", True),
        ("V1.2.3", "=", "v1.2.3", True),
        ("1", "=", "1.0.0", True),
        ("1.2", "=", "1.2.0", True),
        ("v2", ">", "1.99", True),
        ("1.0.0-alpha", "<", "1.0.0", True),
        ("1.0.0-alpha", "<", "1.0.0-alpha.1", True),
        ("1.0.0-alpha.1", "<", "1.0.0-alpha.beta", True),
        ("1.0.0-beta.2", "<", "1.0.0-beta.11", True),
        ("1.0.0-rc.1", "<", "1.0.0", True),
        ("1.0.0+build.5", "=", "1.0.0", True),
        ("1.5.9", "^", "1.0.0", True),
        ("2.0.0", "^", "1.9.9", False),
        ("1.2.9", "~", "1.2.0", True),
        ("1.3.0", "~", "1.2.0", False),
        ("1", "~", "1.0.5", True),
        ("not a version", "=", "1.0.0", None),
        ("01.0.0", "=", "1.0.0", None),
        ("1.0.0", "=>", "1.0.0", None),
        (1, "=", "1.0.0", True),  # flagd prints numbers: "v1" is v1.0.0
        (None, "<", "1.0.0", None),
        ("1.0-alpha", "<", "1.0.0", None),  # Go: a short version takes no pre-release
        ("1.0.0-01", "<", "1.0.0", None),  # numeric identifiers have no leading zeros
        ("1.0.0-é", "<", "1.0.0", None),
        ("vv1.0.0", "=", "1.0.0", None),
        (1.2, "=", "1.2.0", True),
        (1e6, "=", "1000000.0.0", None),  # Go prints 1e+06
        (123456, "=", "123456.0.0", True),
        ("1.0.0", "===", "1.0.0", None),
        ("1.0.0", 1, "1.0.0", None),
    ],
)
def test_sem_ver(left: Any, operator: Any, right: Any, expected: Any) -> None:
    """``sem_ver`` orders by semver 2.0, pads partial versions and returns null when unparsable."""
    assert expected == run({"sem_ver": [left, operator, right]})


def test_sem_ver_reads_the_context() -> None:
    """``sem_ver`` compares a version taken from the context."""
    rule = {"if": [{"sem_ver": [{"var": "version"}, "^", "2.0.0"]}, "new", "old"]}
    expected = ["new", "old", "old"]
    actual = [run(rule, {"version": v}) for v in ("v2.3.1", "1.9.0", "garbage")]
    assert expected == actual


def fractional_reference(bucketing_value: str, weights: list[tuple[str, int]]) -> str:
    """Pick a variant with flagd's fractional v2 formula, written out longhand."""
    total = sum(weight for _, weight in weights)
    point = (mmh3.hash(bucketing_value, 0, False) * total) >> 32
    end = 0
    for variant, weight in weights:
        end += weight
        if point < end:
            return variant
    raise AssertionError("unreachable")


def test_fractional_matches_the_formula_for_many_users() -> None:
    """Default bucketing hashes flagKey + targetingKey; every user lands per the formula."""
    weights = [("red", 50), ("blue", 20), ("green", 30)]
    rule = compile_logic({"fractional": [list(w) for w in weights]}, flag_key="headerColor")
    users = [f"user-{i}" for i in range(5000)]
    expected = [fractional_reference("headerColor" + user, weights) for user in users]
    actual = [rule({"targetingKey": user}) for user in users]
    assert expected == actual


def test_fractional_agrees_with_bucket_of() -> None:
    """The fractional bucket is flagkit's ``bucket_of`` with the flag key as salt."""
    rule = compile_logic({"fractional": [["a", 1], ["b", 1]]}, flag_key="f")
    users = [f"u{i}" for i in range(2000)]
    expected = ["a" if bucket_of("f", user, 2) == 0 else "b" for user in users]
    actual = [rule({"targetingKey": user}) for user in users]
    assert expected == actual


def test_fractional_distribution_follows_the_weights() -> None:
    """Over many users each variant's share is close to its weight."""
    rule = compile_logic({"fractional": [["a", 10], ["b", 90]]}, flag_key="f")
    picks = [rule({"targetingKey": f"id-{i}"}) for i in range(20000)]
    share_a = picks.count("a") / len(picks)
    assert abs(share_a - 0.10) < 0.01


def test_fractional_with_a_bucketing_expression() -> None:
    """An explicit bucketing value is hashed alone, without the flag key."""
    weights = [("red", 25), ("blue", 25), ("green", 25), ("yellow", 25)]
    rule = compile_logic(
        {"fractional": [{"var": "email"}, *[list(w) for w in weights]]}, flag_key="headerColor"
    )
    emails = [f"user{i}@faas.com" for i in range(1000)]
    expected = [fractional_reference(email, weights) for email in emails]
    actual = [rule({"email": email}) for email in emails]
    assert expected == actual


def test_fractional_weights_default_to_one() -> None:
    """A bucket without a weight weighs 1."""
    rule_implicit = compile_logic({"fractional": [["a"], ["b"], ["c", 2]]}, flag_key="f")
    rule_explicit = compile_logic({"fractional": [["a", 1], ["b", 1], ["c", 2]]}, flag_key="f")
    users = [{"targetingKey": f"t{i}"} for i in range(500)]
    assert [rule_explicit(u) for u in users] == [rule_implicit(u) for u in users]


def test_fractional_computed_weights() -> None:
    """Weights may be expressions, evaluated per context."""
    rule = compile_logic(
        {"fractional": [["on", {"var": "pct"}], ["off", {"-": [100, {"var": "pct"}]}]]},
        flag_key="f",
    )
    expected = ["on", "off"]
    actual = [rule({"targetingKey": "u", "pct": 100}), rule({"targetingKey": "u", "pct": 0})]
    assert expected == actual


@pytest.mark.parametrize(
    ("rule", "data"),
    [
        ({"fractional": [["a", 50], ["b", 50]]}, {}),
        ({"fractional": [["a", 50], ["b", 50]]}, {"targetingKey": 42}),
        ({"fractional": [{"var": "n"}, ["a", 50], ["b", 50]]}, {"n": 7}),
        ({"fractional": [{"var": "n"}, ["a", 50], ["b", 50]]}, {"n": {"x": 1}}),
        ({"fractional": [7, ["a", 50]]}, {"targetingKey": "u"}),
        ({"fractional": [["a", 0], ["b", 0]]}, {"targetingKey": "u"}),
        ({"fractional": [["a", 1.5], ["b", 1]]}, {"targetingKey": "u"}),
        ({"fractional": [["a", "50"], ["b", 50]]}, {"targetingKey": "u"}),
        ({"fractional": [["a", True], ["b", 50]]}, {"targetingKey": "u"}),
        ({"fractional": [["a", 50], ["b", 50]]}, {"targetingKey": ""}),
        ({"fractional": [[], ["b", 50]]}, {"targetingKey": "u"}),
        ({"fractional": [[["x"], 50]]}, {"targetingKey": "u"}),
        ({"fractional": ["key", "not-a-bucket"]}, {}),
        ({"fractional": [["a", 2_147_483_647], ["b", 1]]}, {"targetingKey": "u"}),
        ({"fractional": [{"var": "w"}, ["a", {"var": "w"}]]}, {"targetingKey": "u", "w": "x"}),
    ],
)
def test_fractional_returns_null(rule: Any, data: Mapping[str, Any]) -> None:
    """No targeting key, a non-string bucketing value or malformed buckets give null."""
    assert run(rule, data) is None


def test_fractional_missing_bucketing_value_falls_back_to_targeting_key() -> None:
    """A bucketing expression that yields null falls back to flagKey + targetingKey (flagd)."""
    weights = [("a", 1), ("b", 1), ("c", 1)]
    rule = compile_logic(
        {"fractional": [{"var": "email"}, *[list(w) for w in weights]]}, flag_key="f"
    )
    expected = fractional_reference("f" + "user-7", weights)
    assert expected == rule({"targetingKey": "user-7"})


def test_fractional_negative_weights_clamp_to_zero() -> None:
    """A negative (computed) weight counts as 0, so its variant is never picked."""
    rule = compile_logic({"fractional": [["a", -5], ["b", 1]]}, flag_key="f")
    expected = {"b"}
    actual = {rule({"targetingKey": f"u{i}"}) for i in range(200)}
    assert expected == actual


def test_ref_inlines_a_shared_evaluator() -> None:
    """``$ref`` resolves to the named ``$evaluators`` rule at compile time."""
    evaluators = {"isFaas": {"in": ["@faas.com", {"var": ["email"]}]}}
    rule = {"if": [{"$ref": "isFaas"}, "binet", None]}
    expected = ["binet", None]
    actual = [
        run(rule, {"email": "a@faas.com"}, evaluators=evaluators),
        run(rule, {"email": "a@b.c"}, evaluators=evaluators),
    ]
    assert expected == actual


def test_ref_inside_an_evaluator() -> None:
    """Evaluators may reference other evaluators."""
    evaluators = {"outer": {"!": {"$ref": "inner"}}, "inner": {"var": "beta"}}
    assert run({"$ref": "outer"}, {"beta": True}, evaluators=evaluators) is False


def test_ref_cycle_is_a_problem() -> None:
    """A ``$ref`` cycle is reported with its path."""
    evaluators = {"a": {"$ref": "b"}, "b": {"!": {"$ref": "a"}}}
    expected = [("$evaluators.b.!.$ref", "$ref cycle: a -> b -> a")]
    assert expected == problems_of({"$ref": "a"}, evaluators=evaluators)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"bogus": [1]}, [("targeting", "unknown operator 'bogus'")]),
        (
            {"$ref": "nope"},
            [("targeting.$ref", "$ref names no evaluator in $evaluators: 'nope'")],
        ),
        ({"$ref": 1}, [("targeting.$ref", "$ref must name an evaluator (a string)")]),
        (
            {"if": [{"nope": 1}, {"==": []}, {"log": 1}]},
            [
                ("targeting.if[0]", "unknown operator 'nope'"),
                ("targeting.if[2]", "unknown operator 'log'"),
            ],
        ),
    ],
)
def test_compile_problems_are_located(rule: Any, expected: list[tuple[str, str]]) -> None:
    """Unknown operators and unknown ``$ref`` are reported, all at once, with paths."""
    assert expected == problems_of(rule)


def test_deep_nesting_is_a_problem() -> None:
    """A rule nested absurdly deep is refused at compile time instead of overflowing."""
    rule: Any = True
    for _ in range(500):
        rule = {"!": [rule]}
    assert any("nested deeper" in message for _, message in problems_of(rule))


def test_runtime_failure_is_a_value() -> None:
    """An exception inside evaluation comes back as an EvaluationFailure, never raised."""

    class Hostile(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            raise RuntimeError("boom")

    rule = compile_logic({"var": "a"}, flag_key="f")
    expected = EvaluationFailure("RuntimeError: boom", parse_error=False)
    assert expected == rule(Hostile())


@pytest.mark.parametrize("hashing", ["v2", "v3"])
def test_an_unencodable_bucketing_value_counts_as_missing(hashing: Any) -> None:
    """A string with no UTF-8 encoding (a lone surrogate) has no hash: fractional is null."""
    rule = compile_logic({"fractional": [{"var": "k"}, ["a", 1]]}, flag_key="f", hashing=hashing)
    assert rule({"k": "\ud800"}) is None
    assert "a" == rule({"k": "x"})
    shorthand = compile_logic({"fractional": [["a", 1]]}, flag_key="k\ud800", hashing=hashing)
    assert shorthand({"targetingKey": "u"}) is None
    salted = compile_logic({"fractional": [["a", 1]]}, flag_key="f", hashing=hashing)
    assert salted({"targetingKey": "\ud800"}) is None


def test_constant_rules_are_folded() -> None:
    """A rule made of literals is computed once, at compile time."""

    class Unreadable(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            raise AssertionError("a folded rule must not read the context")

    rule = compile_logic({"if": [{"==": [1, 1]}, {"cat": ["o", "n"]}, "off"]}, flag_key="f")
    expected = "on"
    assert expected == rule(Unreadable())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (1.5, "1.5"),
        (1e-7, "1e-7"),
        (1e21, "1e+21"),
        (123456789.0, "123456789"),
        ([1, None, "a<b"], '[1,null,"a\\u003cb"]'),
        ({"b": 1, "a": True}, '{"a":true,"b":1}'),
    ],
)
def test_json_text(value: Any, expected: str) -> None:
    """Results are spelled as Go's encoding/json writes them (flagd names variants so)."""
    assert expected == json_text(value)


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        # filter/some/none substitute the outer context's variables first (Go's solveVars).
        (
            {"filter": [{"var": "xs"}, {">=": [{"var": ""}, {"var": "min"}]}]},
            {"xs": [1, 2, 3], "min": 2},
            [2, 3],
        ),
        ({"some": [{"var": "xs"}, {"==": [{"var": "a"}, 1]}]}, {"xs": [{"a": 1}]}, True),
        ({"none": [{"var": "xs"}, {"==": [{"var": ""}, 1]}]}, {"xs": [2, 3]}, True),
        ({"all": [[], {"==": [1, 1]}]}, {}, False),
        (
            {"reduce": [{"var": "xs"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]},
            {"xs": [1, 2, None, 3]},
            6.0,
        ),
        ({"reduce": [[1], {"var": "current"}]}, {}, 0.0),
        ({"map": [[1, 2], {"*": [{"var": ""}, 2]}]}, {}, [2.0, 4.0]),
        # if applies an object its branch returns (Go's evaluateClause).
        ({"if": [True, {"var": "rule"}, "x"]}, {"rule": {"var": "name"}, "name": "bob"}, "bob"),
        ({"set": [{"a": 1, "b": 2}, "c", 3]}, {}, {"a": 1, "b": 2, "c": 3}),
        ({"contains_all": [["a", "b", "c"], ["a", "b"]]}, {}, True),
        ({"contains_any": [["a"], ["x", 1]]}, {}, False),
        ({"contains_none": [["a"], ["b"]]}, {}, True),
        ({"var": "a.1"}, {"a": ["x", "y"]}, "y"),
        ({"var": "a.x"}, {"a": ["x", "y"]}, "x"),  # text indexes an array as 0
        ({"var": "name.first"}, {"name": "bob"}, None),
        ({"var": ["a", "d"]}, {}, "d"),
        ({"var": 1}, {"1": "one"}, "one"),
        ({"==": [{"a": 1, "b": 2}, {"a": 1, "b": 2}]}, {}, False),  # objects are data, not rules
    ],
)
def test_go_specific_behaviour(rule: Any, data: Mapping[str, Any], expected: Any) -> None:
    """Behaviour particular to Go flagd's engine, each from its source."""
    assert expected == run(rule, data)


@pytest.mark.parametrize(
    ("rule", "data"),
    [
        ({"reduce": [[1], {"var": "current"}, None]}, {}),
        ({"filter": [{"var": "s"}, True]}, {"s": "text"}),
        ({"all": [[1], True]}, {}),
        ({"var": [1]}, {}),
        ({"if": [True, {"var": "rule"}]}, {"rule": {"nope": 1}}),
        ({"/": [1, 0]}, {}),  # a result Go cannot encode as JSON (checked when naming the variant)
    ],
)
def test_go_panics_are_failures(rule: Any, data: Mapping[str, Any]) -> None:
    """Each of these makes Go's engine panic (or fail to encode): flagd answers PARSE_ERROR."""
    result = run(rule, data)
    if isinstance(result, float):
        assert math.isinf(result)
        with pytest.raises(Exception, match="unsupported value"):
            json_text(result)
    else:
        assert isinstance(result, EvaluationFailure)
        assert result.parse_error
