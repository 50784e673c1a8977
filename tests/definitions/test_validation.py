"""Validation: every problem at once, each located by file, flag and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import DefinitionError
from flagkit._sources.pipeline import snapshot_from_data, snapshot_from_file


def _strict(document: Any) -> None:
    """Validate as ``flagkit validate`` does: any problem refuses the whole document."""
    snapshot_from_data(document, isolate=False)


def _problems(document: Any) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        _strict(document)
    return [f"{p.flag}|{p.field}|{p.message}" for p in info.value.problems]


def _flag(**fields: Any) -> dict[str, Any]:
    return {"variants": {"on": True, "off": False}, "default": "off", **fields}


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (_flag(default="maybe"), "f|default|unknown variant 'maybe'"),
        (_flag(off_variant="nope"), "f|off_variant|unknown variant 'nope'"),
        (
            _flag(default={"rollout": {"weights": {"on": 10, "off": 80}}}),
            "f|default.rollout.weights|weights add up to 90, not 100",
        ),
        (
            _flag(default={"rollout": {"weights": {"on": 10.001, "off": 89.999}}}),
            "f|default.rollout.weights|weights allow at most two decimals",
        ),
        (
            _flag(default={"rollout": {"weights": {"on": 10, "ghost": 90}}}),
            "f|default.rollout.weights.ghost|unknown variant 'ghost'",
        ),
        (
            {"variants": {"a": True, "b": "x"}, "default": "a"},
            "f|variants|variant values differ in type",
        ),
        (
            _flag(rules=[{"when": [{"op": "in_segment", "values": ["nobody"]}], "serve": "on"}]),
            "f|rules[0].when[0].values|unknown segment 'nobody'",
        ),
        (
            _flag(
                rules=[
                    {
                        "when": [{"attribute": "a", "op": "matches", "value": "(a+)+$"}],
                        "serve": "on",
                    }
                ]
            ),
            "f|rules[0].when[0].value|pattern '(a+)+$' refused",
        ),
        (
            _flag(
                rules=[
                    {"when": [{"attribute": "a", "op": "matches", "value": "[bad"}], "serve": "on"}
                ]
            ),
            "f|rules[0].when[0].value|pattern '[bad' refused: invalid regular expression",
        ),
        (
            _flag(
                rules=[
                    {"when": [{"attribute": "v", "op": "semver_gt", "value": "one"}], "serve": "on"}
                ]
            ),
            "f|rules[0].when[0].value|'one' is not a semantic version",
        ),
        (
            _flag(
                rules=[
                    {"when": [{"attribute": "t", "op": "before", "value": "soon"}], "serve": "on"}
                ]
            ),
            "f|rules[0].when[0].value|'soon' is not an ISO 8601 date-time",
        ),
        (
            _flag(rules=[{"when": [{"attribute": "n", "op": "gt", "value": "5"}], "serve": "on"}]),
            "f|rules[0].when[0].value|gt needs a number",
        ),
        (
            _flag(rules=[{"when": [{"op": "equals", "value": "x"}], "serve": "on"}]),
            "f|rules[0].when[0].attribute|equals needs an attribute",
        ),
        (
            _flag(rules=[{"when": [{"attribute": "a", "op": "equals"}], "serve": "on"}]),
            "f|rules[0].when[0].value|equals needs a 'value' or 'values'",
        ),
        (
            _flag(
                rules=[
                    {"when": [{"attribute": "a", "op": "sounds_like", "value": "x"}], "serve": "on"}
                ]
            ),
            "f|rules[0].when[0].op|Input should be",
        ),
        (_flag(colour="red"), "f|colour|unknown field"),
        ({"variants": {"on": True}}, "f|default|required field missing"),
        (_flag(kind="marketing"), "f|kind|Input should be"),
        (
            _flag(
                default={
                    "rollout": {
                        "weights": {"on": 0, "off": 100},
                        "schedule": [
                            {"at": "2026-12-02T00:00:00Z", "weights": {"on": 10, "off": 90}},
                            {"at": "2026-12-01T00:00:00Z", "weights": {"on": 20, "off": 80}},
                        ],
                    }
                }
            ),
            "f|default.rollout.schedule[1].at|steps must be in increasing time order",
        ),
        (
            _flag(
                default={
                    "rollout": {
                        "weights": {"on": 0, "off": 100},
                        "schedule": [
                            {"at": "2026-12-02T00:00:00", "weights": {"on": 10, "off": 90}}
                        ],
                    }
                }
            ),
            "f|default.rollout.schedule[0].at|a step time needs a time zone",
        ),
        (
            _flag(prerequisites=[{"flag": "ghost", "variants": ["on"]}]),
            "f|prerequisites[0].flag|unknown flag 'ghost'",
        ),
    ],
)
def test_each_problem_is_reported_and_located(flag: dict[str, Any], expected: str) -> None:
    """Each kind of problem is caught and names the flag and the field."""
    problems = _problems({"flags": {"f": flag}})
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    """Structural and cross-reference problems in different flags come together."""
    problems = _problems(
        {
            "flags": {
                "a": _flag(default="nope"),
                "b": {"variants": {"on": [1]}, "default": "on"},
                "c": _flag(off_variant="ghost", tags="not-a-list"),
                "d": _flag(prerequisites=[{"flag": "c", "variants": ["on"]}]),
            }
        }
    )
    flags = {p.split("|")[0] for p in problems}
    assert {"a", "b", "c"} == flags
    # c's structural error is reported; its cross-references wait for a valid shape,
    # and d's reference to the broken flag c is not reported as unknown.
    assert len(problems) == 3


def test_prerequisite_cycles_are_found() -> None:
    """A cycle through prerequisites (including a self-reference) is an error."""
    problems = _problems(
        {
            "flags": {
                "a": _flag(prerequisites=[{"flag": "b", "variants": ["on"]}]),
                "b": _flag(prerequisites=[{"flag": "a", "variants": ["on"]}]),
                "s": _flag(prerequisites=[{"flag": "s", "variants": ["on"]}]),
            }
        }
    )
    cycles = [p for p in problems if "prerequisite cycle" in p]
    assert len(cycles) == 2
    assert any("a -> b -> a" in p for p in cycles)
    assert any("s -> s" in p for p in cycles)


def test_prerequisite_variant_must_exist() -> None:
    """A prerequisite naming a variant its flag lacks is an error."""
    problems = _problems(
        {"flags": {"a": _flag(), "b": _flag(prerequisites=[{"flag": "a", "variants": ["maybe"]}])}}
    )
    assert any("flag 'a' has no variant 'maybe'" in p for p in problems)


def test_document_must_be_a_mapping_and_known_version() -> None:
    """A non-mapping document and an unknown version are rejected clearly."""
    assert any("must be a mapping" in p for p in _problems([1, 2]))
    assert any("version" in p for p in _problems({"version": 2, "flags": {}}))


def test_error_message_names_the_file(tmp_path: Path) -> None:
    """A file's problems start with its path."""
    path = tmp_path / "bad.json"
    path.write_text('{"flags": {"x": {"variants": {"on": true}, "default": "off"}}}')
    with pytest.raises(DefinitionError) as info:
        snapshot_from_file(path, isolate=False)
    assert str(info.value.problems[0]).startswith(f"{path}: flag 'x': default: unknown variant")
    assert str(path) in str(info.value)


def test_segment_problems_are_located() -> None:
    """Segment conditions are checked too, and cannot nest segments."""
    problems = _problems(
        {
            "segments": {
                "s": {"rules": [{"when": [{"attribute": "n", "op": "lt", "value": "x"}]}]},
                "t": {"rules": [{"when": [{"op": "in_segment", "values": ["s"]}]}]},
            },
            "flags": {},
        }
    )
    assert any("segments.s.rules[0].when[0].value" in p for p in problems)
    assert any("a segment cannot refer to a segment" in p for p in problems)


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ({"a": 10**400}, "64 bits"),
        ({"a": float("nan")}, "finite"),
        ({"a": json.loads("[" * 0 + '{"x":' * 40 + "1" + "}" * 40)}, "nest at most"),
        ({"a": {"x": {1, 2}}}, "not a JSON value"),
    ],
)
def test_variant_values_are_bounded(variants: dict[str, Any], message: str) -> None:
    """Unbounded or non-JSON variant values are refused at load time."""
    with pytest.raises(flagkit.DefinitionError, match=message):
        _strict({"flags": {"f": {"variants": variants, "default": "a"}}})
