"""The flag builder: every feature of the format, validated by the real loader."""

from __future__ import annotations

import datetime as dt

import pytest

import flagkit
from flagkit import Reason
from flagkit.testing import FlagSet, attr, boolean, guard, in_segment, metric, rollout

NOON = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)


def test_flag_with_rule_and_rollout_builds_the_native_document() -> None:
    """The fluent chain produces exactly the native format a file would hold."""
    document = (
        FlagSet()
        .flag("new-checkout")
        .variants(on=True, off=False)
        .rule(when=[attr("country").in_(["NL"])], serve="on")
        .rollout({"on": 10, "off": 90}, by="org.id")
        .build()
    )
    expected = {
        "version": 1,
        "flags": {
            "new-checkout": {
                "variants": {"on": True, "off": False},
                "rules": [
                    {
                        "when": [{"op": "in", "attribute": "country", "values": ["NL"]}],
                        "serve": "on",
                    }
                ],
                "default": {"rollout": {"weights": {"on": 10, "off": 90}, "by": "org.id"}},
            }
        },
    }
    assert expected == document


def test_every_operator_has_a_helper_that_the_loader_accepts() -> None:
    """Each condition helper yields a condition the real loader validates and compiles."""
    conditions = [
        attr("a").equals("x"),
        attr("a").not_equals(1),
        attr("a").in_(["x", 2]),
        attr("a").not_in([True]),
        attr("a").contains("x"),
        attr("a").starts_with("x"),
        attr("a").ends_with("x"),
        attr("a").matches("^[a-z]+$"),
        attr("a").lt(1),
        attr("a").lte(1.5),
        attr("a").gt(1),
        attr("a").gte(1),
        attr("a").semver_eq("1.0.0"),
        attr("a").semver_lt("1.0.0"),
        attr("a").semver_lte("1.0.0"),
        attr("a").semver_gt("1.0.0"),
        attr("a").semver_gte("1.0.0"),
        attr("a").before(NOON),
        attr("a").after("2026-01-01T00:00:00Z"),
        attr("a").exists(),
        in_segment("staff"),
        ~attr("a").equals("y"),
    ]
    flags = FlagSet().segment("staff", include=["qa-1"])
    builder = flags.flag("f").variants(a="a", b="b")
    for i, condition in enumerate(conditions):
        builder.rule(when=condition, serve="b", name=f"r{i}")
    document = builder.serve("a").build()
    ops = [r["when"][0]["op"] for r in document["flags"]["f"]["rules"]]
    assert set(flagkit._definitions.model.OPERATORS) == set(ops)
    assert {"op": "equals", "attribute": "a", "value": "y", "negate": True} == document["flags"][
        "f"
    ]["rules"][-1]["when"][0]


def test_segments_prerequisites_off_and_metadata() -> None:
    """Segments, prerequisites, the kill switch and metadata reach the compiled flag."""
    client = (
        FlagSet()
        .segment(
            "staff",
            include=["qa-1"],
            exclude=["x"],
            rules=[[attr("email").ends_with("@example.com")]],
            description="staff",
            by="targetingKey",
        )
        .boolean("kill-switch", on=True)
        .flag("tools", kind="permission", owner="team", tags=["internal"], track_exposure=True)
        .variants(on=True, off=False)
        .requires("kill-switch", "on")
        .rule(when=in_segment("staff"), serve="on", name="staff")
        .off_variant("off")
        .expires(dt.date(2030, 1, 1))
        .meta(description="Internal tools")
        .serve("off")
        .client()
    )
    flag = client.snapshot.flags["tools"]
    assert ("permission", dt.date(2030, 1, 1), ("internal",)) == (
        flag.meta.kind,
        flag.meta.expires,
        flag.meta.tags,
    )
    assert client.get_bool("tools", False, {"targetingKey": "qa-1"}) is True
    assert client.get_bool("tools", False, {"targetingKey": "z", "email": "a@example.com"})
    assert client.get_bool("tools", True, {"targetingKey": "z"}) is False


def test_disabled_flag_serves_its_off_variant() -> None:
    """``off(variant)`` is the kill switch: the flag serves that variant, reason DISABLED."""
    client = FlagSet().flag("f").variants(on=True, off=False).off("off").serve("on").client()
    details = client.get_bool_details("f", True)
    assert (False, Reason.DISABLED) == (details.value, details.reason)


def test_typed_variants_and_first_variant_default() -> None:
    """Strings, ints, floats and objects work; without a default the first variant is served."""
    client = (
        FlagSet()
        .flag("s")
        .variants(a="x", b="y")
        .flag("i")
        .variants({"small": 1, "big": 100})
        .flag("f")
        .variants(low=0.5, high=1.5)
        .flag("o")
        .variants(classic={"primary": "#000"})
        .client()
    )
    assert ("x", 1, 0.5, {"primary": "#000"}) == (
        client.get_str("s", ""),
        client.get_int("i", 0),
        client.get_float("f", 0.0),
        client.get_object("o", {}),
    )


def test_scheduled_rollout_follows_the_clock() -> None:
    """A schedule built in code ramps the rollout at the given instants."""
    flags = rollout(
        "ramp",
        {"on": 0, "off": 100},
        schedule=[(dt.datetime(2026, 12, 1, tzinfo=dt.UTC), {"on": 100, "off": 0})],
        salt="ramp-salt",
    )
    before = flags.client(clock=lambda: NOON.timestamp() - 2 * 86_400)
    after = flags.client(clock=NOON.timestamp)
    assert (False, True) == (
        before.get_bool("ramp", True, {"targetingKey": "u"}),
        after.get_bool("ramp", False, {"targetingKey": "u"}),
    )


def test_rollout_rule_and_shorthands() -> None:
    """A rule may serve a rollout; ``boolean`` and ``rollout`` are one-line flag sets."""
    document = (
        boolean("a", on=True)
        .rollout("b", {"control": 50, "test": 50}, values={"test": "T"})
        .flag("c")
        .variants(on=True, off=False)
        .rule(when=attr("plan").equals("pro"), rollout={"on": 50, "off": 50}, by="org.id")
        .serve("off")
        .build()
    )
    assert {"control": "control", "test": "T"} == document["flags"]["b"]["variants"]
    assert {"rollout": {"weights": {"on": 50, "off": 50}, "by": "org.id"}} == document["flags"][
        "c"
    ]["rules"][0]["serve"]
    assert "on" == document["flags"]["a"]["default"]


def test_invalid_definitions_fail_with_the_loaders_error() -> None:
    """A mistake is reported by the real loader, located at the flag and field."""
    with pytest.raises(flagkit.DefinitionError, match=r"'f'.*weights add up to 50"):
        rollout("f", {"on": 10, "off": 40}).build()


def test_rule_needs_exactly_one_serve() -> None:
    """A rule serves either a variant or a rollout, not both or neither."""
    with pytest.raises(ValueError, match="exactly one"):
        FlagSet().flag("f").variants(on=True).rule(when=attr("a").exists())


def test_write_produces_a_loadable_file(tmp_path: pytest.TempPathFactory) -> None:
    """``write`` saves a JSON flag file that Client.from_file loads."""
    path = tmp_path / "flags.json"  # type: ignore[operator]
    boolean("a", on=True).write(path)
    assert flagkit.Client.from_file(path).get_bool("a", False) is True


def test_guards_on_rollouts_rules_and_ramps() -> None:
    """``guard`` and ``metric`` write the native guard; the loader checks it."""
    errors = metric("error_rate", 0.005)
    spend = metric("event_mean", 1.5, worse="lower", event="spend")
    slow = metric("latency", 0.05, quantile=0.99)
    document = (
        FlagSet()
        .rollout("a", {"on": 10, "off": 90}, guard=guard("off", errors, spend, alpha=0.01))
        .flag("b")
        .variants(on=True, off=False)
        .rule(
            when=attr("country").equals("NL"),
            rollout={"on": 5, "off": 95},
            guard=guard("off", slow, min_sample=200, action="pause"),
        )
        .serve("off")
        .flag("c")
        .variants(on=True, off=False)
        .rollout(
            {"on": 0, "off": 100},
            schedule=[(NOON, {"on": 20, "off": 80})],
            guard=guard("off", errors),
        )
        .build()
    )
    flags = document["flags"]
    assert {
        "control": "off",
        "metrics": [
            {"metric": "error_rate", "effect": 0.005},
            {"metric": "event_mean", "effect": 1.5, "worse": "lower", "event": "spend"},
        ],
        "alpha": 0.01,
    } == flags["a"]["default"]["rollout"]["guard"]
    assert {
        "control": "off",
        "metrics": [{"metric": "latency", "effect": 0.05, "quantile": 0.99}],
        "min_sample": 200,
        "action": "pause",
    } == flags["b"]["rules"][0]["serve"]["rollout"]["guard"]
    assert "guard" in flags["c"]["default"]["rollout"]
    with pytest.raises(flagkit.DefinitionError, match="needs 'worse'"):
        rollout(
            "d", {"on": 50, "off": 50}, guard=guard("off", metric("event_rate", 1, event="x"))
        ).build()


def test_a_guard_needs_a_rollout() -> None:
    """A rule serving a fixed variant cannot carry a guard."""
    with pytest.raises(ValueError, match="guard= needs rollout="):
        FlagSet().flag("f").variants(on=True).rule(
            when=attr("a").exists(), serve="on", guard=guard("on", metric("error_rate", 0.1))
        )
