"""The public import surface is exactly what is documented."""

from __future__ import annotations

import subprocess
import sys

import flagkit
import flagkit.typing


def test_flagkit_all_is_pinned() -> None:
    """flagkit.__all__ lists exactly these names, sorted, each importable."""
    assert [
        "AsyncHTTPSource",
        "AsyncUnleashSource",
        "CallbackSink",
        "ChangeEvent",
        "Client",
        "ClientStatus",
        "Context",
        "CountKey",
        "DefinitionError",
        "Details",
        "ErrorCode",
        "EvaluationError",
        "EventTotals",
        "Evidence",
        "ExposureEvent",
        "ExposureLog",
        "FileSource",
        "Flag",
        "FlagkitError",
        "GuardStatus",
        "GuardTrip",
        "HTTPSource",
        "Hook",
        "HookContext",
        "JsonLinesSink",
        "MemorySource",
        "OutcomeKey",
        "OutcomeTotals",
        "OverrideScope",
        "Problem",
        "Reason",
        "RefusedFlagsError",
        "Snapshot",
        "Source",
        "SourceError",
        "SourceStatus",
        "StatusEvent",
        "Toggle",
        "TrackEvent",
        "UnleashSource",
        "Variant",
        "bucket_of",
        "current_context",
        "default_client",
        "json_schema",
        "reset_context",
        "scoped_context",
        "set_context",
        "set_default_client",
    ] == flagkit.__all__
    assert all(hasattr(flagkit, name) for name in flagkit.__all__)


def test_typing_all_is_pinned() -> None:
    """flagkit.typing exports the protocols and aliases users implement."""
    assert ["ContextFactory", "ContextLike", "ExposureSink", "HookHints", "SnapshotSink"] == sorted(
        flagkit.typing.__all__
    )
    assert all(hasattr(flagkit.typing, name) for name in flagkit.typing.__all__)


def test_import_flagkit_imports_no_optional_dependency() -> None:
    """import flagkit loads neither YAML, OpenTelemetry, OpenFeature, pytest nor Hypothesis."""
    code = (
        "import sys, flagkit; "
        "print(sorted(m for m in ('yaml', 'opentelemetry', 'openfeature', 'pytest', 'hypothesis') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "[]" == done.stdout.strip()
