"""flagkit: fast, testable, in-process feature-flag evaluation.

The public API is what this module exports (plus ``flagkit.typing``,
``flagkit.testing`` and ``flagkit.formats.*``); ``flagkit._*`` modules are
private and may change without notice.
"""

from flagkit._client.changes import ChangeEvent, StatusEvent
from flagkit._client.client import Client, ClientStatus
from flagkit._client.context import (
    Context,
    current_context,
    reset_context,
    scoped_context,
    set_context,
)
from flagkit._client.counters import CountKey
from flagkit._client.declared import Flag, default_client, set_default_client
from flagkit._client.exposure import (
    CallbackSink,
    ExposureEvent,
    ExposureLog,
    JsonLinesSink,
    TrackEvent,
)
from flagkit._client.guards import Evidence, GuardStatus, GuardTrip
from flagkit._client.hooks import Hook, HookContext
from flagkit._client.outcomes import EventTotals, OutcomeKey, OutcomeTotals
from flagkit._client.overrides import OverrideScope
from flagkit._client.toggles import Toggle
from flagkit._core.bucketing import bucket_of
from flagkit._core.details import Details, ErrorCode, Reason, Variant
from flagkit._core.snapshot import Snapshot
from flagkit._definitions.schema import json_schema
from flagkit._errors import (
    DefinitionError,
    EvaluationError,
    FlagkitError,
    Problem,
    RefusedFlagsError,
    SourceError,
)
from flagkit._sources.base import Source, SourceStatus
from flagkit._sources.file import FileSource
from flagkit._sources.http import AsyncHTTPSource, HTTPSource
from flagkit._sources.memory import MemorySource
from flagkit._sources.unleash import AsyncUnleashSource, UnleashSource
from flagkit._version import VERSION

__all__ = [
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
]

__version__ = VERSION
