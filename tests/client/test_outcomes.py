"""Toggle points record outcomes per served variant: calls, exceptions, wall time."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import types
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flagkit
from flagkit import OutcomeKey
from flagkit._client import decorators as decorators_module
from flagkit._client import outcomes as outcomes_module
from flagkit._client.latency import bucket_floor, bucket_of
from flagkit._client.outcomes import Outcomes
from flagkit.testing import FlagSet, guard, metric
from tests.helpers import examples

USER = {"targetingKey": "user-3"}  # served "on" by the 50/50 split


def _split_client(**options: Any) -> flagkit.Client:
    """Return a client whose ``split`` flag serves ``on`` to user-1 (50/50 rollout)."""
    document = (
        FlagSet()
        .rollout("split", {"on": 50, "off": 50})
        .rollout("abc", {"a": 34, "b": 33, "c": 33})
        .flag("broken")
        .variants(on=True, off=False)
        .rollout({"on": 50, "off": 50}, by="missing")
        .document()
    )
    return flagkit.Client.from_dict(document, **options)


def test_nothing_is_recorded_unless_asked() -> None:
    """A client without guarded flags or outcomes=True has no store; toggles run plain."""
    client = _split_client()

    @client.feature("split", fallback=lambda user: "old", context=lambda user: user)
    def new(user: dict[str, Any]) -> str:
        return "new"

    assert "new" == new(USER)
    assert client._outcomes is None
    assert {} == client.outcomes()


def test_feature_records_calls_errors_and_time_and_reraises_unchanged() -> None:
    """Each call counts for the served variant; an exception is the same object, re-raised."""
    client = _split_client(outcomes=True)
    failure = ValueError("boom")

    def old(user: dict[str, Any], fail: bool) -> str:
        return "old"

    @client.feature("split", fallback=old, context=lambda user, fail: user)
    def new(user: dict[str, Any], fail: bool) -> str:
        if fail:
            time.sleep(0.002)
            raise failure
        return "new"

    assert ["new", "new"] == [new(USER, False), new(USER, False)]
    with pytest.raises(ValueError, match="boom") as info:
        new(USER, True)
    assert info.value is failure
    other = next(
        u
        for u in ({"targetingKey": f"u{i}"} for i in range(50))
        if client.variant_of("split", u) == "off"
    )
    assert "old" == new(other, True)  # the fallback does not fail
    outcomes = client.outcomes()
    on, off = outcomes[OutcomeKey("split", "on")], outcomes[OutcomeKey("split", "off")]
    assert (3, 1, 1, 0) == (on.calls, on.errors, off.calls, off.errors)
    assert on.seconds >= 0.002 > off.seconds
    assert 1 / 3 == pytest.approx(on.error_rate)


def test_dispatch_records_the_variant_whose_implementation_ran() -> None:
    """dispatch records per variant, including the fallback of an unlisted variant."""
    client = _split_client(outcomes=True)
    price = client.dispatch(
        "abc", {"a": lambda u: 1, "b": lambda u: 2}, fallback=lambda u: 0, context=lambda u: u
    )
    users = [{"targetingKey": f"user-{i}"} for i in range(300)]
    served = [client.variant_of("abc", u) for u in users]
    assert [{"a": 1, "b": 2, "c": 0}[v] for v in served] == [price(u) for u in users]
    outcomes = client.outcomes()
    for variant in ("a", "b", "c"):
        assert served.count(variant) == outcomes[OutcomeKey("abc", variant)].calls


def test_the_callers_default_is_not_an_outcome() -> None:
    """An evaluation that served no variant (an error) runs the fallback, unrecorded."""
    client = _split_client(outcomes=True)
    toggle = client.feature("broken", fallback=lambda: "old")(lambda: "new")
    assert "old" == toggle()
    assert {} == client.outcomes()


def test_async_toggle_points_record_awaited_wall_time() -> None:
    """Async feature and dispatch record the awaited time and re-raise."""
    client = _split_client(outcomes=True)

    async def old(user: dict[str, Any]) -> str:
        return "old"

    @client.feature("split", fallback=old, context=lambda user: user)
    async def new(user: dict[str, Any]) -> str:
        await asyncio.sleep(0.003)
        raise KeyError("late")

    async def fine(user: dict[str, Any]) -> str:
        return "fine"

    chosen = client.dispatch(
        "abc", {"a": fine, "b": fine, "c": fine}, fallback=fine, context=lambda u: u
    )

    async def run() -> None:
        with pytest.raises(KeyError):
            await new(USER)
        assert "fine" == await chosen(USER)

    asyncio.run(run())
    outcomes = client.outcomes()
    on = outcomes[OutcomeKey("split", "on")]
    assert (1, 1) == (on.calls, on.errors)
    assert on.seconds >= 0.003
    assert 1 == outcomes[OutcomeKey("abc", client.variant_of("abc", USER) or "")].calls


def test_cancellation_is_not_an_outcome() -> None:
    """A BaseException that is not an Exception passes through unrecorded."""
    client = _split_client(outcomes=True)

    @client.feature("split", fallback=lambda: None)
    def interrupted() -> None:
        raise KeyboardInterrupt

    with flagkit.scoped_context(USER), pytest.raises(KeyboardInterrupt):
        interrupted()
    with (
        flagkit.scoped_context(USER),
        pytest.raises(KeyboardInterrupt),
        client.toggle("split", False),
    ):
        raise KeyboardInterrupt
    assert {} == client.outcomes()


def test_the_context_manager_form_records_a_block() -> None:
    """``with client.toggle(...) as served`` exposes the variant and records the block."""
    client = _split_client(outcomes=True)
    with client.toggle("split", False, USER) as served:
        assert ("on", True) == (served.variant, served.value)
    with client.toggle("split", False, USER) as served:
        served.error()  # a failure that does not raise
    with pytest.raises(RuntimeError), client.toggle("split", False, USER):
        raise RuntimeError("in the block")
    on = client.outcomes()[OutcomeKey("split", "on")]
    assert (3, 2) == (on.calls, on.errors)
    assert "Toggle('split', variant='on')" == repr(served)


def test_record_error_and_value_count_for_the_served_variant() -> None:
    """Outcomes measured elsewhere land on the variant the context is served."""
    client = _split_client(outcomes=True)
    client.record_error("split", USER)
    client.record_value("split", "basket", 12.5, USER)
    client.record_value("split", "basket", 7, USER)
    client.record_value("split", "basket", "much", USER)  # type: ignore[arg-type]  # ignored
    client.record_error("no-such-flag", USER)  # nothing served: nothing recorded
    client.record_error("split", "not a context")  # type: ignore[arg-type]  # never raises
    on = client.outcomes()[OutcomeKey("split", "on")]
    basket = on.events["basket"]
    assert (0, 1) == (on.calls, on.errors)
    assert (2, 2, 19.5, 12.5**2 + 49) == (basket.count, basket.values, basket.total, basket.squares)
    assert 9.75 == basket.mean
    assert [OutcomeKey("split", "on")] == list(client.outcomes())


def test_record_functions_do_nothing_without_a_store() -> None:
    """Without outcomes (no guard, outcomes=False) nothing is recorded, nothing raises."""
    client = _split_client()
    client.record_error("split", USER)
    client.record_value("split", "basket", 1.0, USER)
    assert {} == client.outcomes()


def test_counts_from_many_threads_are_exact() -> None:
    """Per-thread cells, summed on read: no call lost, finished threads folded in."""
    client = _split_client(outcomes=True)
    toggle = client.feature("split", fallback=lambda: 0)(lambda: 1)

    def work() -> None:
        with flagkit.scoped_context(USER):
            for _ in range(500):
                toggle()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    work()  # this thread's first record folds the finished threads' cells
    assert 4500 == client.outcomes()[OutcomeKey("split", "on")].calls
    assert client._outcomes is not None
    assert len(client._outcomes._tables._all) == 1
    assert 4500 == client.outcomes()[OutcomeKey("split", "on")].calls


@settings(max_examples=examples(300))
@given(nanos=st.integers(0, 2**62))
def test_the_hot_path_buckets_latency_as_the_latency_module_does(nanos: int) -> None:
    """record_call writes latency.bucket_of out for speed: the two agree on every duration."""
    outcomes = Outcomes(interval=3600)
    outcomes.watch(["f"], ["f"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outcomes_module, "perf_counter_ns", lambda: nanos)
        outcomes.record_call("f", "on", 0, False)
    totals = outcomes.totals()[OutcomeKey("f", "on")]
    assert {bucket_of(nanos): 1} == dict(totals.histogram)
    assert bucket_floor(bucket_of(nanos)) <= nanos
    assert (1, nanos) == (totals.calls, totals.nanos)


def _timed_client() -> flagkit.Client:
    """Return a client whose ``canary`` (50/50) is guarded on error rate and p95 latency."""
    watched = guard("off", metric("error_rate", 0.02), metric("latency", 0.05), min_sample=100)
    document = FlagSet().rollout("canary", {"on": 50, "off": 50}, guard=watched).document()
    return flagkit.Client.from_dict(document, guard_interval=3600)


@settings(max_examples=examples(200))
@given(nanos=st.integers(0, 2**62), fail=st.booleans())
def test_the_feature_decorator_records_a_call_as_cell_record_does(nanos: int, fail: bool) -> None:
    """The sync decorator writes Cell.record out for speed: the two record any call alike."""
    client = _timed_client()
    by_hand = Outcomes(interval=3600)
    by_hand.watch(["canary"], ["canary"])
    readings = [1_000, 1_000 + nanos]  # the clock at the call's start, then at its end

    def clock() -> int:
        return readings.pop(0) if len(readings) > 1 else readings[0]

    def run(user: dict[str, Any]) -> str:
        if fail:
            raise ValueError("boom")
        return "ran"

    toggled = client.feature("canary", fallback=run, context=lambda user: user)(run)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(decorators_module, "perf_counter_ns", clock)
        patch.setattr(outcomes_module, "perf_counter_ns", clock)  # Cell.record's clock
        with contextlib.suppress(ValueError):
            toggled(USER)
        (key,) = client.outcomes()
        readings[:] = [1_000 + nanos]
        by_hand.record_call(key.flag_key, key.variant, 1_000, fail)
    assert by_hand.totals() == client.outcomes()
    totals = client.outcomes()[key]
    assert (1, int(fail), nanos) == (totals.calls, totals.errors, totals.nanos)
    assert {bucket_of(nanos): 1} == dict(totals.histogram)


@settings(max_examples=examples(100))
@given(durations=st.lists(st.integers(0, 2**45)), moved=st.integers(0, 20))
def test_latency_histograms_keep_every_duration_across_threads(
    durations: list[int], moved: int
) -> None:
    """A cell's histogram grows to hold any duration; summing threads' cells loses none."""
    outcomes = Outcomes(interval=3600)
    outcomes.watch(["f"], ["f"])
    now = [0]

    def record(batch: list[int]) -> None:
        for nanos in batch:
            now[0] = nanos
            outcomes.record_call("f", "on", 0, False)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(outcomes_module, "perf_counter_ns", lambda: now[0])
        worker = threading.Thread(target=record, args=(durations[:moved],))
        worker.start()
        worker.join()  # a finished thread's cells are folded into the store's
        record(durations[moved:])
    expected = Counter(bucket_of(nanos) for nanos in durations)
    totals = outcomes.totals()
    assert expected == Counter(totals[OutcomeKey("f", "on")].histogram if durations else {})
    assert len(durations) == sum(t.calls for t in totals.values())


class _Evaluations(flagkit.Hook):
    """A hook that counts the evaluations it sees."""

    def __init__(self) -> None:
        self.seen = 0

    def finally_after(
        self, hook_context: flagkit.HookContext, details: flagkit.Details, hints: Any
    ) -> None:
        self.seen += 1


@pytest.mark.parametrize("observer", ["nothing", "counters", "a hook"])
def test_a_measured_toggle_point_serves_and_counts_as_the_getter_does(observer: str) -> None:
    """Whatever the context and observers, each call evaluates once and serves the getter's answer.

    The sync decorator resolves a dict context on an unobserved client by
    itself; everything else (counters, hooks, other mappings, the scoped
    context, a flag that errors) goes through ``serve``.
    """
    hook = _Evaluations()
    options: dict[str, Any] = {"counters": True} if observer == "counters" else {}
    client = _split_client(outcomes=True, hooks=[hook] if observer == "a hook" else [], **options)
    reference = _split_client()
    users = [{"targetingKey": f"user-{i}"} for i in range(60)]
    contexts: list[Mapping[str, Any] | None] = [
        *users[:20],
        *(types.MappingProxyType(user) for user in users[20:40]),
        *(None for _ in users[40:]),  # served the scoped context
    ]
    expected: Counter[OutcomeKey] = Counter()
    for key in ("split", "broken"):
        toggled = client.feature(key, fallback=lambda ctx: "old", context=lambda ctx: ctx)(
            lambda ctx: "new"
        )
        for user, ctx in zip(users, contexts, strict=True):
            with flagkit.scoped_context(user):
                served = toggled(ctx)
            assert ("new" if reference.get_bool(key, False, user) else "old") == served
            variant = reference.variant_of(key, user)
            if variant is not None:
                expected[OutcomeKey(key, variant)] += 1
    assert expected == Counter({k: t.calls for k, t in client.outcomes().items()})
    assert (2 * len(users) if observer == "counters" else 0) == sum(client.counters().values())
    assert (2 * len(users) if observer == "a hook" else 0) == hook.seen
