"""A rollout's guard in the native format: what validation accepts and what it reports."""

from __future__ import annotations

from typing import Any

import pytest

import flagkit
from flagkit import DefinitionError
from flagkit._sources.pipeline import snapshot_from_data


def _guarded(guard: dict[str, Any], **rollout: Any) -> dict[str, Any]:
    """Return a document whose flag ``f`` has a default rollout carrying ``guard``."""
    return {
        "flags": {
            "f": {
                "variants": {"on": True, "off": False, "spare": False},
                "default": {
                    "rollout": {"weights": {"on": 10, "off": 90}, **rollout, "guard": guard}
                },
            }
        }
    }


def _problems(document: dict[str, Any]) -> list[str]:
    """Validate as ``flagkit validate`` does: any problem refuses the whole document."""
    with pytest.raises(DefinitionError) as info:
        snapshot_from_data(document, isolate=False)
    return [f"{p.field}|{p.message}" for p in info.value.problems]


ERRORS = {"metric": "error_rate", "effect": 0.005}


def test_a_full_guard_is_accepted_with_its_defaults() -> None:
    """A control and metrics suffice; alpha, min_sample, action and directions default."""
    guard = {
        "control": "off",
        "metrics": [
            ERRORS,
            {"metric": "latency", "effect": 0.05},
            {"metric": "event_rate", "event": "signup", "worse": "lower", "effect": 0.01},
            {"metric": "event_mean", "event": "basket", "worse": "lower", "effect": 2.5},
        ],
    }
    plan = flagkit.Client.from_dict(_guarded(guard)).snapshot.flags["f"].plan
    assert plan.guard is not None
    assert ("off", ("on",), 0.05, 500, "rollback", None) == (
        plan.guard.control,
        plan.guard.treatments,
        plan.guard.alpha,
        plan.guard.min_sample,
        plan.guard.action,
        plan.guard.rule,
    )
    assert [
        ("error_rate", "higher", "error_rate"),
        ("latency", "higher", "latency p95"),
        ("event_rate", "lower", "event_rate(signup)"),
        ("event_mean", "lower", "event_mean(basket)"),
    ] == [(m.kind, m.worse, m.label) for m in plan.guard.metrics]


@pytest.mark.parametrize(
    ("guard", "rollout", "expected"),
    [
        ({"control": "nope", "metrics": [ERRORS]}, {}, "control|unknown variant 'nope'"),
        ({"control": "spare", "metrics": [ERRORS]}, {}, "control|the control 'spare' is not in"),
        ({"control": "off", "metrics": []}, {}, "metrics|List should have at least 1 item"),
        (
            {"control": "off", "metrics": [{"metric": "event_mean", "effect": 1}]},
            {},
            "metrics[0].event|event_mean needs an 'event'",
        ),
        (
            {"control": "off", "metrics": [{"metric": "event_rate", "event": "x", "effect": 1}]},
            {},
            "metrics[0].worse|event_rate needs 'worse': higher or lower",
        ),
        (
            {"control": "off", "metrics": [{**ERRORS, "event": "x"}]},
            {},
            "metrics[0].event|error_rate takes no 'event'",
        ),
        (
            {"control": "off", "metrics": [{**ERRORS, "quantile": 0.5}]},
            {},
            "metrics[0].quantile|only latency takes a 'quantile'",
        ),
        (
            {"control": "off", "metrics": [{"metric": "latency", "effect": 1.5}]},
            {},
            "metrics[0].effect|a difference of shares must be below 1",
        ),
        (
            {"control": "off", "metrics": [{"metric": "error_rate", "effect": 0}]},
            {},
            "metrics[0].effect|Input should be greater than 0",
        ),
        (
            {"control": "off", "metrics": [{"metric": "error_rate", "effect": "inf"}]},
            {},
            "metrics[0].effect|Input should be a finite number",
        ),
        (
            {"control": "off", "metrics": [ERRORS], "alpha": 0.9},
            {},
            "alpha|Input should be less than or equal to 0.5",
        ),
        (
            {"control": "off", "metrics": [ERRORS], "action": "panic"},
            {},
            "action|Input should be 'pause' or 'rollback'",
        ),
        (
            {"control": "on", "metrics": [ERRORS]},
            {"weights": {"on": 100}},
            "control|the rollout has no variant to compare",
        ),
    ],
)
def test_each_guard_problem_is_reported_and_located(
    guard: dict[str, Any], rollout: dict[str, Any], expected: str
) -> None:
    """A guard's problems name the field under default.rollout.guard."""
    problems = _problems(_guarded(guard, **rollout))
    field, _, message = expected.partition("|")
    wanted = f"default.rollout.guard.{field}|{message}"
    assert any(p.startswith(wanted) for p in problems), problems


def test_a_control_only_in_a_later_step_counts() -> None:
    """The compared variants are those of every step; weights of zero still count."""
    document = _guarded(
        {"control": "off", "metrics": [ERRORS]},
        schedule=[{"at": "2026-12-01T00:00:00Z", "weights": {"on": 50, "spare": 50}}],
    )
    document["flags"]["f"]["default"]["rollout"]["weights"] = {"on": 0, "off": 100}
    plan = flagkit.Client.from_dict(document).snapshot.flags["f"].plan
    assert plan.guard is not None
    assert ("on", "spare") == plan.guard.treatments


def test_one_guarded_rollout_per_flag_and_every_problem_at_once() -> None:
    """A second guarded rollout is reported beside the other problems of the document."""
    guard = {"control": "off", "metrics": [ERRORS]}
    rollout = {"rollout": {"weights": {"on": 50, "off": 50}, "guard": guard}}
    document = {
        "flags": {
            "f": {
                "variants": {"on": True, "off": False},
                "rules": [{"when": [{"attribute": "a", "op": "exists"}], "serve": rollout}],
                "default": rollout,
            },
            "g": {"variants": {"on": True}, "default": "nope"},
        }
    }
    problems = _problems(document)
    assert "default.rollout.guard|a flag may have one guarded rollout" in problems
    assert any(p.startswith("default|unknown variant 'nope'") for p in problems)


def test_a_guarded_rule_is_located_by_its_index() -> None:
    """A guard on a rule's rollout records which rule carries it."""
    guard = {"control": "off", "metrics": [ERRORS], "action": "pause"}
    document = {
        "flags": {
            "f": {
                "variants": {"on": True, "off": False},
                "rules": [
                    {"when": [{"attribute": "staff", "op": "exists"}], "serve": "on"},
                    {
                        "name": "canary",
                        "when": [{"attribute": "country", "op": "equals", "value": "NL"}],
                        "serve": {"rollout": {"weights": {"on": 5, "off": 95}, "guard": guard}},
                    },
                ],
                "default": "off",
            }
        }
    }
    plan = flagkit.Client.from_dict(document).snapshot.flags["f"].plan
    assert plan.guard is not None
    assert (1, "pause") == (plan.guard.rule, plan.guard.action)


def test_the_schema_describes_the_guard() -> None:
    """The JSON Schema has the guard and its metric, with their closed sets."""
    defs = flagkit.json_schema()["$defs"]
    assert ["pause", "rollback"] == sorted(defs["Guard"]["properties"]["action"]["enum"])
    assert ["error_rate", "event_mean", "event_rate", "latency"] == sorted(
        defs["GuardMetric"]["properties"]["metric"]["enum"]
    )
    assert {"$ref": "#/$defs/Guard"} in defs["Rollout"]["properties"]["guard"]["anyOf"]


def test_a_client_isolates_a_flag_with_a_broken_guard() -> None:
    """A client refuses only the flag whose guard is wrong; the problem is in its status."""
    document = _guarded({"control": "nope", "metrics": [ERRORS]})
    document["flags"]["fine"] = {"variants": {"on": True}, "default": "on"}
    client = flagkit.Client.from_dict(document)
    status = client.status()
    assert ("f",) == status.refused
    assert any(p.field == "default.rollout.guard.control" for p in status.problems)
    assert client.get_bool("fine", False) is True
    assert () == status.guards  # a refused flag has no guard to watch
