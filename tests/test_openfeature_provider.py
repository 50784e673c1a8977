"""The OpenFeature provider, tested through the real ``openfeature-sdk`` API.

Runs only where the ``flagkit[openfeature]`` extra is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("openfeature")

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import EventDetails, ProviderEvent
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagEvaluationDetails, Reason
from openfeature.hook import Hook, HookContext, HookHints
from openfeature.provider import ProviderStatus

import flagkit
from flagkit.openfeature import FlagkitProvider
from tests.helpers import wait_until

FLAGD: dict[str, Any] = {
    "$schema": "https://flagd.dev/schema/v0/flags.json",
    "metadata": {"flagSetId": "shop", "version": "1"},
    "flags": {
        "checkout": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [{"ends_with": [{"var": "email"}, "@staff.example"]}, "on"]},
            "metadata": {"owner": "payments"},
        },
        "color": {
            "state": "ENABLED",
            "variants": {"red": "#f00", "blue": "#00f"},
            "defaultVariant": "red",
            "targeting": {"fractional": [["red", 50], ["blue", 50]]},
        },
        "limit": {"variants": {"low": 10, "high": 100}, "defaultVariant": "low"},
        "ratio": {"state": "ENABLED", "variants": {"a": 0.25, "b": 0.75}, "defaultVariant": "b"},
        "theme": {
            "state": "ENABLED",
            "variants": {"dark": {"bg": "#000"}, "light": {"bg": "#fff"}},
            "defaultVariant": "dark",
        },
        "killed": {"state": "DISABLED", "variants": {"on": True, "off": False}},
        "broken": {
            "state": "ENABLED",
            "variants": {"on": True, "off": False},
            "defaultVariant": "off",
            "targeting": {"if": [True, "purple"]},
        },
    },
}


def _register(provider: Any, domain: str | None = None) -> None:
    """Register a provider and wait for its initialisation (older SDKs always wait)."""
    register = getattr(api, "set_provider_and_wait", api.set_provider)
    if domain is None:
        register(provider)
    else:
        register(provider, domain)


@pytest.fixture
def provider() -> Iterator[FlagkitProvider]:
    """Register a provider over the flagd document as the default provider."""
    provider = FlagkitProvider.from_dict(FLAGD)
    _register(provider)
    yield provider
    api.clear_providers()
    api.clear_hooks()


def _context(key: str | None = None, **attributes: Any) -> EvaluationContext:
    return EvaluationContext(key, attributes)


def test_typed_details_reasons_variants_and_metadata(provider: FlagkitProvider) -> None:
    """Every OpenFeature getter resolves through flagkit with flagd's reasons and metadata."""
    client = api.get_client()
    staff = client.get_boolean_details("checkout", False, _context("u1", email="a@staff.example"))
    assert (True, "on", Reason.TARGETING_MATCH) == (staff.value, staff.variant, staff.reason)
    assert {"flagSetId": "shop", "version": "1", "owner": "payments"} == dict(staff.flag_metadata)
    other = client.get_boolean_details("checkout", True, _context("u1", email="a@x.example"))
    assert (False, "off", Reason.DEFAULT) == (other.value, other.variant, other.reason)
    assert 10 == client.get_integer_value("limit", 0)
    assert 0.75 == client.get_float_value("ratio", 0.0)
    assert 10.0 == client.get_float_value("limit", 0.0)  # integers widen to float
    assert {"bg": "#000"} == client.get_object_value("theme", {})
    static = client.get_string_details("color", "x", _context())
    assert ("#f00", "red", Reason.DEFAULT) == (static.value, static.variant, static.reason)


def test_fractional_matches_bucketing_formula(provider: FlagkitProvider) -> None:
    """fractional through OpenFeature buckets by murmur3(flag key + targeting key)."""
    client = api.get_client()
    for number in range(200):
        key = f"user-{number}"
        expected = "red" if flagkit.bucket_of("color", key, 100) < 50 else "blue"
        assert expected == client.get_string_details("color", "x", _context(key)).variant


@pytest.mark.parametrize(
    ("flag", "getter", "default", "reason", "code"),
    [
        ("missing", "get_boolean_details", True, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND),
        ("color", "get_boolean_details", True, Reason.ERROR, ErrorCode.TYPE_MISMATCH),
        ("broken", "get_boolean_details", True, Reason.ERROR, ErrorCode.GENERAL),
        ("killed", "get_boolean_details", True, Reason.DISABLED, None),
        ("ratio", "get_integer_details", 7, Reason.ERROR, ErrorCode.TYPE_MISMATCH),
    ],
)
def test_errors_serve_the_default(  # noqa: PLR0917 - pytest passes parameters by position
    provider: FlagkitProvider,
    flag: str,
    getter: str,
    default: Any,
    reason: Reason,
    code: ErrorCode | None,
) -> None:
    """Errors and disabled flags serve the caller's default with OpenFeature's codes."""
    details: FlagEvaluationDetails[Any] = getattr(api.get_client(), getter)(flag, default)
    assert (default, None, reason, code) == (
        details.value,
        details.variant,
        details.reason,
        details.error_code,
    )


def test_hooks_see_the_evaluation(provider: FlagkitProvider) -> None:
    """An OpenFeature hook sees the merged context before and the flagkit details after."""
    seen: list[tuple[str, Any]] = []

    class Recorder(Hook):
        def before(self, hook_context: HookContext, hints: HookHints) -> None:
            seen.append(("before", hook_context.evaluation_context.attributes.get("email")))

        def after(
            self,
            hook_context: HookContext,
            details: FlagEvaluationDetails[Any],
            hints: HookHints,
        ) -> None:
            seen.append(("after", (details.value, details.variant, details.reason)))

    api.add_hooks([Recorder()])
    api.set_evaluation_context(_context("u9", email="boss@staff.example"))
    try:
        assert api.get_client().get_boolean_value("checkout", False) is True
    finally:
        api.set_evaluation_context(EvaluationContext())
    expected = [
        ("before", "boss@staff.example"),
        ("after", (True, "on", Reason.TARGETING_MATCH)),
    ]
    assert expected == seen


def test_events_follow_the_client(tmp_path: Path) -> None:
    """Reloads emit CONFIGURATION_CHANGED with the changed keys; failures emit ERROR."""
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGD), encoding="utf-8")
    source = flagkit.FileSource(path, format="flagd")
    client = flagkit.Client(source)
    provider = FlagkitProvider(client)
    events: list[tuple[ProviderEvent, EventDetails]] = []
    arrived = threading.Event()

    def record(event: ProviderEvent) -> Any:
        def handler(details: EventDetails) -> None:
            events.append((event, details))
            arrived.set()

        return handler

    _register(provider)
    handlers = {event: record(event) for event in ProviderEvent}
    for event, handler in handlers.items():
        api.add_handler(event, handler)
    try:
        assert ProviderStatus.READY == api.get_client().get_provider_status()
        changed = json.loads(json.dumps(FLAGD))
        changed["flags"]["limit"]["defaultVariant"] = "high"
        path.write_text(json.dumps(changed), encoding="utf-8")
        assert source.check()
        assert 100 == api.get_client().get_integer_value("limit", 0)
        path.write_text("{not json", encoding="utf-8")
        assert not source.check()
        assert ProviderStatus.ERROR == api.get_client().get_provider_status()
        assert 100 == api.get_client().get_integer_value("limit", 0)  # last known good
        path.write_text(json.dumps(FLAGD), encoding="utf-8")
        assert source.check()
    finally:
        for event, handler in handlers.items():
            api.remove_handler(event, handler)
        api.clear_providers()
    kinds = [(event, details.flags_changed) for event, details in events]
    assert [
        (ProviderEvent.PROVIDER_READY, None),
        (ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, ["limit"]),
        (ProviderEvent.PROVIDER_ERROR, None),
        (ProviderEvent.PROVIDER_READY, None),
        (ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, ["limit"]),
    ] == kinds
    assert not client.status().closed  # a client passed in stays the caller's


def test_a_refused_flag_is_a_parse_error_not_a_provider_error() -> None:
    """A document with one broken flag serves the others; the provider stays READY."""
    document = json.loads(json.dumps(FLAGD))
    document["flags"]["invalid"] = {
        "variants": {"on": True, "off": False},
        "defaultVariant": "off",
        "targeting": {"invalid": [1]},
    }
    _register(FlagkitProvider.from_dict(document), "refused")
    try:
        client = api.get_client("refused")
        assert ProviderStatus.READY == client.get_provider_status()
        assert 10 == client.get_integer_value("limit", 0)
        details = client.get_boolean_details("invalid", True)
        assert (True, Reason.ERROR, ErrorCode.PARSE_ERROR) == (
            details.value,
            details.reason,
            details.error_code,
        )
    finally:
        api.clear_providers()


def test_shutdown_closes_an_owned_client() -> None:
    """shutdown() unsubscribes and closes a client the provider built itself."""
    provider = FlagkitProvider.from_dict(FLAGD)
    _register(provider)
    api.shutdown()
    assert provider.client.status().closed
    api.clear_providers()


def test_not_ready_without_flags() -> None:
    """A client with no flags fails initialisation: the provider is in ERROR, not READY."""
    provider = FlagkitProvider(flagkit.Client())
    api.set_provider(provider)
    try:
        details = api.get_client().get_boolean_details("checkout", True)
        assert (True, Reason.ERROR) == (details.value, details.reason)
        assert api.get_client().get_provider_status() in {
            ProviderStatus.ERROR,
            ProviderStatus.NOT_READY,
        }
    finally:
        api.clear_providers()


def test_native_documents_work_too() -> None:
    """A native flagkit document serves OpenFeature just the same (SPLIT, rule names)."""
    native = {
        "flags": {
            "beta": {
                "variants": {"on": True, "off": False},
                "rules": [{"name": "staff", "when": [{"attribute": "staff", "op": "equals",
                                                      "value": True}], "serve": "on"}],
                "default": "off",
            }
        }
    }  # fmt: skip
    _register(FlagkitProvider.from_dict(native))
    try:
        details = api.get_client().get_boolean_details("beta", False, _context("k", staff=True))
        assert (True, "on", Reason.TARGETING_MATCH) == (
            details.value,
            details.variant,
            details.reason,
        )
    finally:
        api.clear_providers()


def test_import_flagkit_does_not_import_openfeature() -> None:
    """The optional dependency stays optional: import flagkit never loads it."""
    code = "import sys, flagkit, flagkit.formats; print('openfeature' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "False" == result.stdout.strip()


def test_docs_provider_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider snippets of docs/openfeature.md (opted out of the docs test) run here.

    In a directory holding only the starter files, as every docs example runs.
    """
    from tests.docs.test_docs_examples import ROOT, extract_blocks, starter_files

    starter_files(tmp_path)
    monkeypatch.chdir(tmp_path)

    if not hasattr(api, "set_provider_and_wait"):
        pytest.skip("the docs use set_provider_and_wait (openfeature-sdk 0.8.x lacks it)")

    page = ROOT / "docs" / "openfeature.md"
    blocks = [
        block
        for block in extract_blocks("openfeature.md", page.read_text(encoding="utf-8"))
        if block.lang == "python" and block.opted_out
    ]
    assert 2 == len(blocks)
    for block in blocks:
        try:
            exec(compile(block.code, block.id, "exec"), {})
        finally:
            api.clear_providers()
            api.clear_hooks()


def test_a_tripped_guard_is_a_configuration_change() -> None:
    """A guard's rollback changes what the flag serves: PROVIDER_CONFIGURATION_CHANGED."""
    errors = {"metric": "error_rate", "effect": 0.05}
    guarded = {"control": "off", "metrics": [errors], "min_sample": 50}
    native = {
        "flags": {
            "canary": {
                "variants": {"on": True, "off": False},
                "default": {"rollout": {"weights": {"on": 50, "off": 50}, "guard": guarded}},
            }
        }
    }
    client = flagkit.Client.from_dict(native, guard_interval=0)
    changed: list[EventDetails] = []
    _register(FlagkitProvider(client))
    api.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, changed.append)
    try:
        for i in range(2000):
            with client.toggle("canary", False, {"targetingKey": f"u{i}"}) as served:
                if served.variant == "on":
                    served.error()
            if client.status().guards[0].state == "tripped":
                break
        value = api.get_client().get_boolean_details("canary", True, _context("u1"))
        assert wait_until(lambda: changed)  # handlers run on the SDK's executor
    finally:
        api.remove_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, changed.append)
        api.clear_providers()
    assert [["canary"]] == [details.flags_changed for details in changed]
    assert (False, "off", Reason.TARGETING_MATCH) == (value.value, value.variant, value.reason)
