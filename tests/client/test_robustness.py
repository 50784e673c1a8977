"""Every public evaluation entry point answers the caller's default on anything hostile.

The regression tests of issue 17's "evaluation raises" items, one place each
used to escape: the scoped context helpers, hooks, exposure recording,
counters, ``all_flags``, the decorators and the OpenFeature provider.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode as OpenFeatureErrorCode

import flagkit
from flagkit import ErrorCode, Reason
from flagkit._client.counters import MAX_ERROR_KEYS, MAX_KEY_CHARS, OTHER_KEYS
from flagkit.openfeature import FlagkitProvider
from tests.hostile import (
    ENTRY_POINTS,
    Generator,
    Hostile,
    PosingAsDict,
    RaisingMapping,
    check_call,
    native_document,
    torture,
)

BOOL = {"on": True, "off": False}
DOCUMENT = {
    "flags": {
        "f": {"variants": BOOL, "default": "on"},
        "split": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 50, "off": 50}}}},
        "seen": {"variants": BOOL, "default": "on", "kind": "experiment"},
    }
}

#: Scoped contexts set_context cannot use (pytest cannot hold some as parameters).
UNUSABLE = {
    "int": lambda: 1,
    "str": lambda: "ctx",
    "none": lambda: None,
    "posing-as-dict": PosingAsDict,
    "raising-keys": lambda: RaisingMapping("keys", {"a": 1}),
    "raising-getitem": lambda: RaisingMapping("__getitem__", {"a": 1}),
    "torture-dict": lambda: torture(dict, "raise", {"a": 1}),
}
#: Keys that are no flag key, or a str subclass whose every method raises.
HOSTILE_KEYS = {
    "none": lambda: None,
    "int": lambda: 42,
    "list": lambda: ["f"],
    "torture-str": lambda: torture(str, "raise", "f"),
}


@pytest.fixture(params=["fast", "observed"])
def client(request: pytest.FixtureRequest) -> flagkit.Client:
    """A client on the fast path, or one observed by a hook."""
    hooks = [flagkit.Hook()] if request.param == "observed" else []
    made = flagkit.Client.from_dict(DOCUMENT, hooks=hooks, counters=True)
    assert made._observed is (request.param == "observed")
    return made


@pytest.mark.parametrize("make", UNUSABLE.values(), ids=UNUSABLE.keys())
def test_set_context_never_raises_and_the_scope_is_invalid(
    client: flagkit.Client, make: Any
) -> None:
    """Something set_context cannot use makes the scope's evaluations INVALID_CONTEXT."""
    outer = flagkit.set_context({"targetingKey": "u"})
    token = flagkit.set_context(make())
    try:
        details = client.get_bool_details("f", False)
        assert (False, False) == (client.get_bool("f", False), details.value)
        assert (Reason.ERROR, ErrorCode.INVALID_CONTEXT) == (details.reason, details.error_code)
        assert "scoped context" in (details.error_message or "")
        # An explicit context still works inside the broken scope.
        assert True is client.get_bool("f", False, {})
    finally:
        flagkit.reset_context(token)
        flagkit.reset_context(outer)
    assert True is client.get_bool("f", False)


def test_scoped_context_block_never_raises(client: flagkit.Client) -> None:
    """``with scoped_context(x)`` enters and leaves for any x; evaluations see INVALID_CONTEXT."""
    for make in UNUSABLE.values():
        with flagkit.scoped_context(make()):
            assert False is client.get_bool("f", False)
    assert flagkit.current_context() == {}


def test_counters_count_each_failure_once(client: flagkit.Client) -> None:
    """A context whose get raises is counted once, as GENERAL, on either path."""
    client.get_bool("split", False, RaisingMapping("get", {"targetingKey": "u"}))
    counts = client.counters()
    assert {("split", None, "ERROR", "GENERAL"): 1} == {tuple(key): n for key, n in counts.items()}


def test_counter_tables_are_bounded_under_unique_missing_keys(client: flagkit.Client) -> None:
    """A million-key loop would grow the tables: past MAX_ERROR_KEYS, keys share OTHER_KEYS."""
    total = MAX_ERROR_KEYS + 500
    for number in range(total):
        client.get_bool(f"missing-{number}", False)
    client.get_bool("x" * (MAX_KEY_CHARS + 1), False)
    counts = client.counters()
    assert MAX_ERROR_KEYS + 1 >= len(counts)
    assert total + 1 == sum(counts.values())
    other = counts[flagkit.CountKey(OTHER_KEYS, None, "ERROR", "FLAG_NOT_FOUND")]
    assert other >= 501
    client.reset_counters()
    client.get_bool("missing-again", False)
    assert [flagkit.CountKey("missing-again", None, "ERROR", "FLAG_NOT_FOUND")] == list(
        client.counters()
    )


def test_counters_name_non_string_keys_by_type(client: flagkit.Client) -> None:
    """A key that is no string is counted as ``<type>``, never as the object itself."""
    for key in (None, 42, ["f"], b"f"):
        client.get_bool(key, False)  # type: ignore[arg-type]
    labels = {key.flag_key for key in client.counters()}
    assert {"<NoneType>", "<int>", "<list>", "<bytes>"} == labels


class AddsJunk(flagkit.Hook):
    """A hook whose ``before`` returns something that is not a mapping."""

    def before(self, hook_context: flagkit.HookContext, hints: Mapping[str, Any]) -> Any:
        return 42


class Seer(flagkit.Hook):
    """A hook remembering the flag key it was shown."""

    def __init__(self) -> None:
        self.keys: list[Any] = []

    def before(self, hook_context: flagkit.HookContext, hints: Mapping[str, Any]) -> None:
        self.keys.append(hook_context.flag_key)


def test_a_hook_returning_junk_is_a_failed_hook_not_a_failed_evaluation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The junk is logged and ignored; the flag is served."""
    client = flagkit.Client.from_dict(DOCUMENT, hooks=[AddsJunk()])
    with caplog.at_level(logging.WARNING, logger="flagkit"):
        details = client.get_bool_details("f", False, {})
    assert (True, None) == (details.value, details.error_code)
    assert any("AddsJunk.before raised" in r.getMessage() for r in caplog.records)


def test_hooks_see_the_flag_key_as_an_exact_string() -> None:
    """A str subclass key reaches hooks (and Details) as the plain string it holds."""
    seer = Seer()
    client = flagkit.Client.from_dict(DOCUMENT, hooks=[seer])
    details = client.get_bool_details(torture(str, "raise", "f"), False)
    assert [("f", str)] == [(key, type(key)) for key in seer.keys]
    assert (str, "f", ErrorCode.GENERAL) == (
        type(details.flag_key),
        details.flag_key,
        details.error_code,
    )


def test_exposure_recording_cannot_fail_an_evaluation() -> None:
    """A constant experiment flag is served even when the context cannot give a targeting key."""
    events: list[Any] = []
    client = flagkit.Client.from_dict(DOCUMENT, exposures=events.extend)
    details = client.get_bool_details("seen", False, RaisingMapping("get", {}))
    client.flush()
    assert (True, None, []) == (details.value, details.error_code, events)
    client.close()


def test_all_flags_answers_every_flag_for_any_context() -> None:
    """A hostile context makes each flag ERROR with the default; keys are strings."""
    client = flagkit.Client.from_dict(DOCUMENT)
    for make in (*UNUSABLE.values(), lambda: RaisingMapping("get", {})):
        result = client.all_flags(make())
        assert set(DOCUMENT["flags"]) == set(result)
        for details in result.values():
            assert details.reason in (Reason.ERROR, Reason.STATIC), details
            if details.reason == Reason.ERROR:
                assert details.value is None


@pytest.mark.parametrize("make", HOSTILE_KEYS.values(), ids=HOSTILE_KEYS.keys())
def test_decorators_fall_back_on_any_key_and_context(client: flagkit.Client, make: Any) -> None:
    """feature and dispatch call the fallback (or the served variant), never raise."""
    key = make()

    @client.feature(key, fallback=lambda: "old", context=lambda: RaisingMapping("get", {}))
    def new() -> str:
        return "new"

    chosen = client.dispatch(key, {"on": lambda: "on"}, fallback=lambda: "old", context=lambda: 7)
    assert ("old", "old") == (new(), chosen())


def test_mistyped_defaults_come_back_as_given(client: flagkit.Client) -> None:
    """A default of another type (a hostile one included) is returned, never inspected."""
    defaults = [torture(str, "raise", "d"), torture(int, "raise", 1), [1], object()]
    for default in defaults:
        for getter in (client.get_object, client.get_str, client.get_int, client.get_float):
            assert default is getter("missing", default, {})
            assert default is getter("f", default, RaisingMapping("get", {}))


def test_provider_answers_the_default_for_unreadable_attributes() -> None:
    """OpenFeature's rule: a resolve method never raises; unreadable attributes are INVALID."""
    provider = FlagkitProvider(flagkit.Client.from_dict(DOCUMENT))
    context = EvaluationContext(attributes=RaisingMapping("keys", {"a": 1}))  # type: ignore[arg-type]
    result = provider.resolve_boolean_details("f", False, context)
    assert (False, OpenFeatureErrorCode.INVALID_CONTEXT) == (result.value, result.error_code)
    assert "Hostile" in (result.error_message or "")
    junk = EvaluationContext(attributes=42)  # type: ignore[arg-type]
    assert provider.resolve_string_details("f", "d", junk).value == "d"


@pytest.mark.parametrize("make", HOSTILE_KEYS.values(), ids=HOSTILE_KEYS.keys())
def test_provider_answers_any_key(make: Any) -> None:
    """A key that is no string is FLAG_NOT_FOUND; one whose hash raises is GENERAL."""
    key = make()
    provider = FlagkitProvider(flagkit.Client.from_dict(DOCUMENT))
    result = provider.resolve_boolean_details(key, False, EvaluationContext())
    hostile = issubclass(type(key), str)
    code = OpenFeatureErrorCode.GENERAL if hostile else OpenFeatureErrorCode.FLAG_NOT_FOUND
    assert (False, code) == (result.value, result.error_code)


def test_every_entry_point_survives_a_sample_of_hostile_calls() -> None:
    """A seeded sample through every entry point: no exception, defaults on error."""
    import random

    document = native_document()
    client = flagkit.Client.from_dict(document, counters=True)
    generator = Generator(random.Random(17), tuple(document["flags"]))
    problems = []
    for name, (_, value_type) in ENTRY_POINTS.items():
        for _ in range(40):
            default = generator.default(value_type or "bool")
            problem = check_call(name, client, generator.key(), default, generator.context())
            if problem is not None:
                problems.append(problem)
    assert [] == problems


def test_hostile_raises_inside_a_getter_are_named_in_details() -> None:
    """GENERAL errors name the exception type, even when its message cannot be printed."""

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise Hostile("no message either")

    class Raises(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            raise Unprintable

    client = flagkit.Client.from_dict(DOCUMENT)
    details = client.get_bool_details("split", False, Raises())
    assert (ErrorCode.GENERAL, "Unprintable: (unprintable)") == (
        details.error_code,
        details.error_message,
    )


class CountingMapping(Mapping[str, Any]):
    """A context that counts how often it is iterated (what a merge does)."""

    copies = 0

    def __init__(self, **data: Any) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Any:
        CountingMapping.copies += 1
        return iter(self._data)


def test_all_flags_merges_the_context_once() -> None:
    """One merge for all flags: reading many flags is not flags x context size."""
    document = {"flags": {f"f{i}": {"variants": BOOL, "default": "on"} for i in range(50)}}
    client = flagkit.Client.from_dict(document, context={"app": "x"})
    CountingMapping.copies = 0
    result = client.all_flags(CountingMapping(targetingKey="u"))
    assert (50, 1) == (len(result), CountingMapping.copies)


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
def test_forced_values_are_read_as_plain_values(behaviour: Any) -> None:
    """An override forcing a subclass is read by value, like a context value."""
    client = flagkit.Client.from_dict(
        {"flags": {"text": {"variants": {"a": "a", "b": "b"}, "default": "a"}}}
    )
    with client.override(
        {"text": torture(str, behaviour, "b"), "ratio": torture(float, behaviour, 0.5)}
    ):
        text = client.get_str_details("text", "d")
        ratio = client.get_float_details("ratio", 1.0)
    assert ("b", str, "b", Reason.OVERRIDE) == (
        text.value,
        type(text.value),
        text.variant,
        text.reason,
    )
    assert (0.5, float, Reason.OVERRIDE) == (ratio.value, type(ratio.value), ratio.reason)


def test_get_variant_answers_disabled_for_anything(client: flagkit.Client) -> None:
    """get_variant: the disabled variant for hostile keys, contexts and unusable scopes."""
    disabled = flagkit.Variant("disabled", enabled=False, feature_enabled=False)
    for make in HOSTILE_KEYS.values():
        assert disabled == client.get_variant(make(), {})
    assert disabled == client.get_variant("split", RaisingMapping("get", {}))
    with flagkit.scoped_context(UNUSABLE["raising-keys"]()):
        assert disabled == client.get_variant("f")
    assert flagkit.Variant("on", enabled=True, feature_enabled=True) == client.get_variant("f", {})


# -- the paths monitoring and operations added: toggles, tracking, the error log --

GUARDED = {
    "flags": {
        **DOCUMENT["flags"],
        "exp": {"variants": BOOL, "default": "on", "kind": "experiment"},
    }
}


@pytest.mark.parametrize("make", HOSTILE_KEYS.values(), ids=HOSTILE_KEYS.keys())
def test_measured_toggle_points_never_raise_on_their_own(make: Any) -> None:
    """With outcomes recorded, a hostile key or context still only picks the fallback."""
    client = flagkit.Client.from_dict(DOCUMENT, outcomes=True)
    key = make()

    @client.feature(key, fallback=lambda: "old")
    def new() -> str:
        return "new"

    chosen = client.dispatch(key, {"on": lambda: "on"}, fallback=lambda: "old")
    with client.toggle(key, "d", PosingAsDict()) as served:
        pass
    assert ("old", "old", None, "d") == (new(), chosen(), served.variant, served.value)
    assert {} == client.outcomes()


class Name(str):
    """A str subclass as a flag key (a StrEnum member is one)."""


@pytest.mark.parametrize("how", ["feature", "dispatch", "toggle"])
def test_toggle_points_record_a_str_subclass_key_as_an_exact_string(how: str) -> None:
    """A str subclass key finds its flag; its outcomes are kept under the exact string."""
    client = flagkit.Client.from_dict(DOCUMENT, outcomes=True)
    if how == "feature":
        assert "new" == client.feature(Name("f"), fallback=lambda: "old")(lambda: "new")()
    elif how == "dispatch":
        assert "on" == client.dispatch(Name("f"), {"on": lambda: "on"}, fallback=lambda: "old")()
    else:
        with client.toggle(Name("f"), None) as served:
            assert "on" == served.variant
    assert ["f"] == [key.flag_key for key in client.outcomes()]
    assert [str] == [type(key.flag_key) for key in client.outcomes()]


def test_the_toggle_fast_path_reports_an_unusable_scoped_context() -> None:
    """A scope set_context could not use is INVALID_CONTEXT for toggle points too."""
    client = flagkit.Client.from_dict(DOCUMENT)
    with flagkit.scoped_context(42), client.toggle("split", "d") as served:  # type: ignore[arg-type]
        pass
    assert (None, "d") == (served.variant, served.value)
    details = client.get_details("split", "d")  # outside the scope: no targeting key
    assert ErrorCode.TARGETING_KEY_MISSING == details.error_code


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
def test_tracking_reads_names_and_values_by_value(behaviour: Any) -> None:
    """track and record_value: a str or float subclass counts as its value, never raises."""
    events: list[Any] = []
    client = flagkit.Client.from_dict(GUARDED, outcomes=True, exposures=events.extend)
    user = {"targetingKey": "u"}
    client.track(torture(str, behaviour, "buy"), user, torture(float, behaviour, 2.5))
    client.record_value("exp", torture(str, behaviour, "buy"), torture(int, behaviour, 3), user)
    client.track("buy", 42, 1.0)  # type: ignore[arg-type]  # dropped: not a mapping
    client.track("x" * (MAX_KEY_CHARS + 1), user, 1.0)  # dropped: too long a name
    client.track("huge", user, 10**400)  # kept, the value dropped: no float holds it
    client.flush()
    totals = client.outcomes()[flagkit.OutcomeKey("exp", "on")].events
    assert (2, 2, 5.5) == (totals["buy"].count, totals["buy"].values, totals["buy"].total)
    assert (1, 0) == (totals["huge"].count, totals["huge"].values)
    assert ["buy", "huge"] == [type(e).__name__ == "TrackEvent" and e.name for e in events]


def test_tracked_event_names_per_variant_are_bounded() -> None:
    """A loop over unique event names shares one entry past MAX_EVENT_NAMES per variant."""
    from flagkit._client.outcomes import MAX_EVENT_NAMES, OTHER_EVENTS

    client = flagkit.Client.from_dict(GUARDED, outcomes=True)
    for number in range(MAX_EVENT_NAMES + 50):
        client.track(f"event-{number}", {"targetingKey": "u"})
    events = client.outcomes()[flagkit.OutcomeKey("exp", "on")].events
    assert (MAX_EVENT_NAMES + 1, 50) == (len(events), events[OTHER_EVENTS].count)


def test_provider_track_never_raises() -> None:
    """OpenFeature's tracking API: unreadable attributes or details drop the event."""
    from openfeature.track import TrackingEventDetails

    events: list[Any] = []
    client = flagkit.Client.from_dict(GUARDED, exposures=events.extend)
    provider = FlagkitProvider(client)
    broken = EvaluationContext(attributes=RaisingMapping("keys", {"a": 1}))  # type: ignore[arg-type]
    provider.track("buy", broken, TrackingEventDetails(value=1.0))
    junk = TrackingEventDetails(value=1.0, attributes=RaisingMapping("keys", {"a": 1}))  # type: ignore[arg-type]
    provider.track("buy", EvaluationContext("u"), junk)
    provider.track("buy", EvaluationContext("u"), TrackingEventDetails(value=1.0))
    client.flush()
    assert [("buy", "u")] == [(e.name, e.targeting_key) for e in events]


def test_the_error_log_holds_and_prints_keys_cut_short(caplog: pytest.LogCaptureFixture) -> None:
    """Huge missing keys: one short log line each, and nothing of them remembered in full."""
    client = flagkit.Client.from_dict(DOCUMENT)
    huge = "k" * 1_000_000
    with caplog.at_level(logging.WARNING, logger="flagkit"):
        assert False is client.get_bool(huge, False)
        assert False is client.get_bool(huge + "x", False)  # the same first 256 characters
        assert False is client.get_bool(torture(str, "raise", "gone"), False)
    lines = [r.getMessage() for r in caplog.records if "served the caller's default" in r.message]
    assert 2 == len(lines)
    assert all(len(line) < 600 for line in lines)
    remembered = [
        *client._misses_logged,
        *client._near._messages,
        *(k for k, _ in client._errors._seen),
    ]
    assert all(type(k) is str and len(k) <= MAX_KEY_CHARS + 3 for k in remembered)


def test_near_match_searches_are_budgeted_under_a_flood_of_unknown_keys() -> None:
    """Each search reads every flag key: past the burst, unknown keys are not searched for."""
    from flagkit._client.errorlog import NEAR_BURST, NEAR_REFILL_SECONDS, NearMatches

    now = [0.0]
    near = NearMatches(clock=lambda: now[0])
    known = ["beta-banner"]
    burst = [near.message(f"beta-banne{i}", known) for i in range(int(NEAR_BURST) + 2)]
    assert ["no such flag; did you mean 'beta-banner'?"] * int(NEAR_BURST) == burst[:-2]
    assert ["no such flag"] * 2 == burst[-2:]
    assert burst[0] == near.message("beta-banne0", known)  # remembered: no search needed
    now[0] += NEAR_REFILL_SECONDS
    assert burst[0] == near.message("beta-bannerX", known)
    assert "no such flag" == near.message("x" * (MAX_KEY_CHARS + 1), known)
