"""Hooks: stages, order, context from before, raising hooks, counters."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import pytest

import flagkit
from flagkit import CountKey, Details, Hook, HookContext

BANNER = {
    "flags": {
        "beta-banner": {
            "variants": {"on": True, "off": False},
            "rules": [
                {"when": [{"attribute": "plan", "op": "equals", "value": "pro"}], "serve": "on"}
            ],
            "default": "off",
        }
    }
}


class Recorder(Hook):
    def __init__(self, name: str, calls: list[str], extra: Mapping[str, Any] | None = None) -> None:
        self.name, self.calls, self.extra = name, calls, extra

    def before(
        self, hook_context: HookContext, hints: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        self.calls.append(f"{self.name}.before")
        return self.extra

    def after(self, hook_context: HookContext, details: Details, hints: Mapping[str, Any]) -> None:
        self.calls.append(f"{self.name}.after:{details.value}")

    def error(
        self, hook_context: HookContext, exception: Exception, hints: Mapping[str, Any]
    ) -> None:
        self.calls.append(f"{self.name}.error:{type(exception).__name__}")

    def finally_after(
        self, hook_context: HookContext, details: Details, hints: Mapping[str, Any]
    ) -> None:
        self.calls.append(f"{self.name}.finally")


def test_stages_run_in_openfeature_order() -> None:
    """before in order; after and finally in reverse; error instead of after on errors."""
    calls: list[str] = []
    client = flagkit.Client.from_dict(BANNER, hooks=[Recorder("a", calls), Recorder("b", calls)])
    client.get_bool("beta-banner", True, {"plan": "free"})
    client.get_bool("missing", True)
    assert [
        "a.before",
        "b.before",
        "b.after:False",
        "a.after:False",
        "b.finally",
        "a.finally",
        "a.before",
        "b.before",
        "b.error:EvaluationError",
        "a.error:EvaluationError",
        "b.finally",
        "a.finally",
    ] == calls


def test_before_hook_can_add_context() -> None:
    """A before hook's returned mapping is merged into the evaluation context."""
    calls: list[str] = []
    client = flagkit.Client.from_dict(BANNER, hooks=[Recorder("a", calls, extra={"plan": "pro"})])
    assert client.get_bool("beta-banner", False, {}) is True


class Exploding(Hook):
    def before(
        self, hook_context: HookContext, hints: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        raise RuntimeError("before exploded")

    def after(self, hook_context: HookContext, details: Details, hints: Mapping[str, Any]) -> None:
        raise RuntimeError("after exploded")

    def finally_after(
        self, hook_context: HookContext, details: Details, hints: Mapping[str, Any]
    ) -> None:
        raise RuntimeError("finally exploded")


def test_raising_hooks_are_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    """A hook that raises never changes the result; the failure is logged."""
    calls: list[str] = []
    client = flagkit.Client.from_dict(BANNER, hooks=[Exploding(), Recorder("ok", calls)])
    with caplog.at_level(logging.WARNING, logger="flagkit"):
        assert client.get_bool("beta-banner", False, {"plan": "pro"}) is True
    assert "ok.after:True" in calls
    messages = [r.getMessage() for r in caplog.records]
    assert any("Exploding.before raised" in m for m in messages)
    assert any("Exploding.after raised" in m for m in messages)
    assert any("Exploding.finally_after raised" in m for m in messages)


def test_add_hook_switches_on_observation() -> None:
    """A hook added later sees evaluations from then on."""
    calls: list[str] = []
    client = flagkit.Client.from_dict(BANNER)
    client.get_bool("beta-banner", False)
    client.add_hook(Recorder("late", calls))
    client.get_bool("beta-banner", False)
    assert ["late.before", "late.after:False", "late.finally"] == calls


def test_counters_per_flag_variant_and_reason() -> None:
    """Counters count every evaluation by flag, variant, reason and error code."""
    client = flagkit.Client.from_dict(BANNER, counters=True)
    for plan in ("pro", "pro", "free"):
        client.get_bool("beta-banner", False, {"plan": plan})
    client.get_bool_details("beta-banner", False, {"plan": "pro"})
    client.get_bool("missing", False)
    client.get_str("beta-banner", "x")
    assert {
        CountKey("beta-banner", "on", "TARGETING_MATCH"): 3,
        CountKey("beta-banner", "off", "DEFAULT"): 1,
        CountKey("missing", None, "ERROR", "FLAG_NOT_FOUND"): 1,
        CountKey("beta-banner", None, "ERROR", "TYPE_MISMATCH"): 1,
    } == client.counters()
    client.reset_counters()
    assert {} == client.counters()


def test_counters_are_exact_across_threads() -> None:
    """Counts from many threads add up exactly (per-thread tables, no lost updates)."""
    client = flagkit.Client.from_dict(BANNER, counters=True)

    def work() -> None:
        for _ in range(5000):
            client.get_bool("beta-banner", False, {"plan": "pro"})

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {CountKey("beta-banner", "on", "TARGETING_MATCH"): 40_000} == client.counters()


def test_counters_are_off_by_default() -> None:
    """Without counters=True nothing is counted."""
    client = flagkit.Client.from_dict(BANNER)
    client.get_bool("beta-banner", False)
    assert {} == client.counters()


def test_counters_stay_bounded_with_thread_churn() -> None:
    """Tables of finished threads are folded into one total: nothing grows per thread."""
    client = flagkit.Client.from_dict(BANNER, counters=True)
    for _ in range(50):
        thread = threading.Thread(
            target=client.get_bool, args=("beta-banner", False, {"plan": "pro"})
        )
        thread.start()
        thread.join()
    assert {CountKey("beta-banner", "on", "TARGETING_MATCH"): 50} == client.counters()
    assert client._counters is not None
    assert len(client._counters._tables._all) <= 1
