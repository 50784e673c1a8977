"""Unleash features through the whole client: getters, variants, contexts, tools, events."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import Client, Reason, Variant
from flagkit._cli import main
from flagkit._sources.unleash import metrics_bucket
from flagkit.formats.unleash import apply_events, snapshot_from_unleash
from flagkit.testing import cohort
from tests.conftest import ROOT

EXAMPLE = ROOT / "src" / "flagkit" / "examples" / "unleash.json"
DOCUMENT: dict[str, Any] = json.loads(EXAMPLE.read_text())


def _client(document: Any = DOCUMENT, **options: Any) -> Client:
    return Client(snapshot_from_unleash(document), **options)


def _feature(name: str, strategies: list[Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "enabled": True, "strategies": strategies, **extra}


def test_get_bool_and_get_variant_answer_as_unleash() -> None:
    """A feature's boolean comes from get_bool, its variant and payload from get_variant."""
    client = _client()
    assert client.get_bool("beta-banner", False, {"country": "NL", "plan": "pro"})
    assert not client.get_bool("beta-banner", True, {"country": "DE", "plan": "pro"})
    variant = client.get_variant("pricing-test", {"userId": "user-7"})
    assert Variant("control", True, True, {"type": "string", "value": "9.99"}) == variant
    assert Variant("disabled", False, True) == client.get_variant(
        "beta-banner", {"country": "BE", "plan": "pro"}
    )
    assert Variant("disabled", False, False) == client.get_variant("kill-switch", {})
    assert Variant("disabled", False, False) == client.get_variant("no-such-feature", {})


def test_payload_and_variant_come_through_details() -> None:
    """Details carry the Unleash variant's name and payload (no bucket, as in Unleash)."""
    details = _client().get_bool_details("pricing-test", False, {"userId": "user-7"})
    assert (True, "control", Reason.SPLIT) == (details.value, details.variant, details.reason)
    assert {"type": "string", "value": "9.99"} == details.to_dict()["payload"]
    assert details.bucket is None


def test_both_context_shapes_and_the_targeting_key() -> None:
    """Properties or flat attributes; userId, else the targeting key, is the user."""
    client = _client()
    flat = {"country": "NL", "plan": "pro"}
    unleash_style = {"properties": {"country": "NL", "plan": "pro"}}
    assert client.get_bool("beta-banner", False, flat)
    assert client.get_bool("beta-banner", False, unleash_style)
    # properties win over a top-level attribute of the same name, as in Unleash's SDK.
    assert not client.get_bool("beta-banner", False, {**flat, "properties": {"plan": "free"}})
    by_user = client.get_variant("pricing-test", {"userId": "user-7"})
    assert by_user == client.get_variant("pricing-test", {"targetingKey": "user-7"})
    assert by_user == client.get_variant("pricing-test", {"userId": "user-7", "targetingKey": "x"})


def test_static_context_and_the_clock() -> None:
    """appName and environment default to the document's static context; time to the clock."""
    document = {
        "features": [
            _feature(
                "app",
                [
                    {
                        "name": "default",
                        "constraints": [
                            {"contextName": "appName", "operator": "IN", "values": ["shop"]}
                        ],
                    }
                ],
            ),
            _feature(
                "later",
                [
                    {
                        "name": "default",
                        "constraints": [
                            {
                                "contextName": "currentTime",
                                "operator": "DATE_AFTER",
                                "value": "2030-01-01T00:00:00.000Z",
                            }
                        ],
                    }
                ],
            ),
        ]
    }
    plain = Client(snapshot_from_unleash(document))
    shop = Client(snapshot_from_unleash(document, app_name="shop"))
    assert (False, True) == (plain.get_bool("app", False, {}), shop.get_bool("app", False, {}))
    assert not shop.get_bool("app", False, {"appName": "other"})
    before = Client(snapshot_from_unleash(document, clock=lambda: 1.8e9))
    after = Client(snapshot_from_unleash(document, clock=lambda: 2.0e9))
    assert (False, True) == (
        before.get_bool("later", False, {}),
        after.get_bool("later", False, {}),
    )


def test_impression_data_becomes_exposure_events() -> None:
    """A feature with impressionData records exposure events; one without does not."""
    batches: list[Sequence[flagkit.ExposureEvent]] = []
    client = _client(exposures=batches.append)
    client.get_bool("new-checkout", False, {"userId": "u1"})
    client.get_bool("beta-banner", False, {"userId": "u1"})
    assert client.flush()
    events = [e for batch in batches for e in batch]
    assert ["new-checkout"] == [e.flag_key for e in events]
    assert "u1" != events[0].targeting_key or events[0].variant in ("enabled", "disabled")
    client.close()


def test_observed_path_overrides_and_hooks() -> None:
    """Overrides force Unleash features (as a value or a variant); hooks see evaluations."""
    seen: list[str] = []

    class Record:
        def after(self, hook_context: Any, details: flagkit.Details, hints: Any = None) -> None:
            seen.append(f"{details.flag_key}={details.variant}")

    client = _client(hooks=[Record()])
    assert Variant(
        "control", True, True, {"type": "string", "value": "9.99"}
    ) == client.get_variant("pricing-test", {"userId": "user-7"})
    with client.override({"kill-switch": True, "pricing-test": "discount"}):
        assert client.get_bool("kill-switch", False, {})
        assert Variant("disabled", False, True) == client.get_variant("kill-switch", {})
        forced = client.get_variant("pricing-test", {"userId": "user-7"})
        assert ("discount", True, True) == forced[:3]
    assert "pricing-test=control" in seen


def test_decorators_dispatch_on_unleash_variants() -> None:
    """dispatch picks the implementation of the served Unleash variant."""
    client = _client()
    price = client.dispatch(
        "pricing-test",
        {"control": lambda: 9.99, "discount": lambda: 7.99},
        fallback=lambda: 0.0,
        context=lambda: {"userId": "user-7"},
    )
    assert 9.99 == price()

    @client.feature(
        "beta-banner", fallback=lambda: "old", context=lambda: {"country": "NL", "plan": "pro"}
    )
    def banner() -> str:
        return "new"

    assert "new" == banner()


def test_cohort_finds_users_of_each_variant() -> None:
    """cohort() returns real users served a given Unleash variant (or enabled / disabled)."""
    client = _client()
    for variant in ("control", "discount"):
        for key in cohort(client, "pricing-test", variant, 5):
            assert variant == client.get_variant("pricing-test", {"targetingKey": key}).name
    for key in cohort(client, "new-checkout", "enabled", 5):
        assert client.get_bool("new-checkout", False, {"targetingKey": key})


def test_counters_become_unleash_metrics() -> None:
    """yes/no per feature and counts per variant, from the client's own counters."""
    client = _client(counters=True)
    answers = [client.get_bool("new-checkout", False, {"userId": f"u{i}"}) for i in range(200)]
    variants = [client.get_variant("pricing-test", {"userId": f"u{i}"}).name for i in range(50)]
    client.get_bool("missing", False, {})
    toggles = metrics_bucket(client.counters())
    assert {"yes": answers.count(True), "no": answers.count(False), "variants": {}} == toggles[
        "new-checkout"
    ]
    assert {
        "control": variants.count("control"),
        "discount": variants.count("discount"),
    } == toggles["pricing-test"]["variants"]
    assert {"yes": 0, "no": 1, "variants": {}} == toggles["missing"]


def test_a_broken_feature_is_isolated() -> None:
    """A feature Unleash cannot compile is an error (PARSE_ERROR); the others still work."""
    document = {
        "features": [
            _feature("ok", [{"name": "default"}]),
            _feature(
                "bad-op",
                [
                    {
                        "name": "default",
                        "constraints": [{"contextName": "x", "operator": "NOPE", "values": ["1"]}],
                    }
                ],
            ),
            _feature("bad-shape", "not a list"),
            _feature("no-segment", [{"name": "default", "segments": [7]}]),
        ]
    }
    client = Client(snapshot_from_unleash(document))
    assert client.get_bool("ok", False, {})
    for name in ("bad-op", "bad-shape", "no-segment"):
        details = client.get_bool_details(name, False, {})
        assert (False, flagkit.ErrorCode.PARSE_ERROR) == (details.value, details.error_code), name
    assert "strategies" in (client.get_bool_details("bad-shape", False, {}).error_message or "")


def test_document_shape_problems_are_reported_together() -> None:
    """A document whose shape is wrong raises one DefinitionError with every problem, located."""
    with pytest.raises(flagkit.DefinitionError) as caught:
        snapshot_from_unleash(
            {"features": [{"name": ""}, {"name": "a"}, {"name": "a"}], "segments": 3}
        )
    assert ["features[0].name", "features[2].name", "segments"] == [
        p.field for p in caught.value.problems
    ]


def test_delta_events_fold_over_a_base() -> None:
    """Delta events update, add and remove features and segments of a previous document."""
    base = {"features": [_feature("a", []), _feature("b", [])], "segments": []}
    events = [
        {"type": "feature-removed", "featureName": "a"},
        {"type": "feature-updated", "feature": {**_feature("b", []), "enabled": False}},
        {"type": "segment-updated", "segment": {"id": 1, "constraints": []}},
        {"type": "segment-removed", "segmentId": 1},
    ]
    folded = apply_events(events, base)
    assert (["b"], False, []) == (
        [f["name"] for f in folded["features"]],
        folded["features"][0]["enabled"],
        folded["segments"],
    )
    with pytest.raises(flagkit.DefinitionError):
        apply_events([{"type": "feature-renamed"}])


def test_formats_dispatch_and_detection(tmp_path: Path) -> None:
    """format="unleash" and "auto" load Unleash documents through every constructor."""
    assert "unleash" == Client.from_file(EXAMPLE, format="unleash").snapshot.format
    assert "unleash" == Client.from_file(EXAMPLE, format="auto").snapshot.format
    assert "unleash" == Client.from_dict({"events": []}, format="auto").snapshot.format
    assert "native" == Client.from_dict({"flags": {}}, format="auto").snapshot.format


def test_cli_eval_explain_and_simulate(capsys: pytest.CaptureFixture[str]) -> None:
    """eval --explain walks an Unleash feature's plan; simulate measures its rollout."""
    assert 0 == main(
        [
            "eval",
            str(EXAMPLE),
            "new-checkout",
            "--format",
            "unleash",
            "--targeting-key",
            "user-1",
            "--explain",
            "--json",
        ]
    )
    trace = json.loads(capsys.readouterr().out)
    assert "new-checkout:" == trace["rollout"]["salt"]
    assert trace["variant"] in ("enabled", "disabled")
    assert 0 == main(
        [
            "simulate",
            str(EXAMPLE),
            "new-checkout",
            "--format",
            "unleash",
            "--users",
            "4000",
            "--json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    shares = {row["variant"]: (row["expected"], row["observed"]) for row in report["variants"]}
    assert 0.25 == shares["enabled"][0]
    assert abs(shares["enabled"][1] - 0.25) < 0.03


def test_cli_diff_and_lint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """diff measures a rollout change of an Unleash file; lint reads its plans."""
    changed = json.loads(json.dumps(DOCUMENT))
    changed["features"][0]["strategies"][0]["parameters"]["rollout"] = "50"
    new = tmp_path / "new.json"
    new.write_text(json.dumps(changed))
    assert 0 == main(["diff", str(EXAMPLE), str(new), "--format", "unleash", "--json"])
    report = json.loads(capsys.readouterr().out)
    (modified,) = [m for m in report["modified"] if m["flag"] == "new-checkout"]
    assert abs(modified["impact"] - 0.25) < 0.03  # 25% more users get the feature
    assert 4 == main(["diff", str(EXAMPLE), str(new), "--format", "unleash", "--fail-above", "10"])
    capsys.readouterr()
    assert 0 == main(["lint", str(EXAMPLE), "--format", "unleash", "--json"])
    findings = json.loads(capsys.readouterr().out)
    assert [("FK304", "kill-switch")] == [(f["code"], f["flag"]) for f in findings]


CONVERTIBLE: dict[str, Any] = {
    "segments": [
        {
            "id": 1,
            "constraints": [{"contextName": "plan", "operator": "IN", "values": ["pro", "team"]}],
        }
    ],
    "features": [
        _feature("users", [{"name": "userWithId", "parameters": {"userIds": "u1, u2"}}]),
        _feature(
            "constrained",
            [
                {
                    "name": "default",
                    "segments": [1],
                    "constraints": [
                        {"contextName": "country", "operator": "IN", "values": ["NL", "BE"]},
                        {"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@x.org"]},
                    ],
                },
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "100", "stickiness": "sessionId"},
                },
            ],
        ),
        _feature(
            "everyone",
            [
                {"name": "gradualRolloutRandom", "parameters": {"percentage": "0"}},
                {"name": "default"},
            ],
        ),
        _feature("child", [{"name": "default"}], dependencies=[{"feature": "users"}]),
        {"name": "off", "enabled": False, "strategies": []},
        _feature("unconvertible", [{"name": "flexibleRollout", "parameters": {"rollout": "30"}}]),
    ],
}


def test_convert_is_exact_where_it_converts(tmp_path: Path) -> None:
    """Converted features serve what the Unleash features serve; the rest are reported (exit 6)."""
    from flagkit.formats.unleash import convert_unleash

    conversion = convert_unleash(CONVERTIBLE)
    assert ["unconvertible"] == [
        p.split(":")[0].removeprefix("flags.") for p in conversion.problems
    ]
    native = Client.from_dict(conversion.document)
    unleash = Client(snapshot_from_unleash(CONVERTIBLE))
    contexts = [
        {"userId": user, "country": country, "plan": plan, "email": email, **session}
        for user in ("u1", "u3")
        for country in ("NL", "DE")
        for plan in ("pro", "free")
        for email in ("a@x.org", "a@y.org")
        for session in ({}, {"sessionId": "s1"})
    ]
    for name in conversion.converted:
        for context in contexts:
            expected = unleash.get_bool_details(name, False, context)
            actual = native.get_bool_details(name, False, context)
            assert (name, expected.value, expected.variant) == (name, actual.value, actual.variant)
    path = tmp_path / "unleash.json"
    path.write_text(json.dumps(CONVERTIBLE))
    assert 6 == main(["convert", str(path), "--output", str(tmp_path / "native.json")])


def test_lint_reads_the_plans_of_an_unleash_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unreachable strategies, one-variant rollouts and broken features are found in plans."""
    document = {
        "features": [
            _feature(
                "shadowed",
                [
                    {"name": "userWithId", "parameters": {"userIds": "a"}},
                    {"name": "default"},
                    {"name": "userWithId", "parameters": {"userIds": "b"}},
                ],
            ),
            _feature(
                "everyone",
                [
                    {
                        "name": "flexibleRollout",
                        "parameters": {"rollout": "100", "stickiness": "userId"},
                    }
                ],
            ),
            _feature(
                "broken",
                [
                    {
                        "name": "default",
                        "constraints": [{"contextName": "n", "operator": "NUM_GT", "value": "x"}],
                    }
                ],
            ),
        ]
    }
    path = tmp_path / "unleash.json"
    path.write_text(json.dumps(document))
    assert 1 == main(["lint", str(path), "--format", "unleash", "--json"])
    findings = {(f["code"], f["flag"]) for f in json.loads(capsys.readouterr().out)}
    assert {("FK201", "shadowed"), ("FK303", "everyone"), ("FK501", "broken")} == findings


def test_get_variant_of_a_native_flag() -> None:
    """A native flag answers get_variant too: its variant, and whether it is on."""
    client = Client.from_file(ROOT / "src" / "flagkit" / "examples" / "flags.yaml")
    assert Variant("disabled", False, False) == client.get_variant("no-such-flag")
    served = client.get_variant("api-backend", {"targetingKey": "u1"})
    assert (served.name, served.enabled, served.feature_enabled) == ("blue", True, True)
    assert Variant("off", True, False) == client.get_variant("kill-switch", {})
    with client.override({"api-backend": "green"}):
        assert ("green", True, True) == client.get_variant("api-backend", {})[:3]
