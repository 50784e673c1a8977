"""flagkit: fast, testable, in-process feature-flag evaluation.

The public API is what this module exports (plus ``flagkit.typing``,
``flagkit.testing`` and ``flagkit.formats.*``); ``flagkit._*`` modules are
private and may change without notice.
"""

from flagkit._client.changes import ChangeEvent
from flagkit._client.client import Client, ClientStatus
from flagkit._client.context import (
    Context,
    current_context,
    reset_context,
    scoped_context,
    set_context,
)
from flagkit._client.counters import CountKey
from flagkit._client.exposure import CallbackSink, ExposureEvent, ExposureLog, JsonLinesSink
from flagkit._client.hooks import Hook, HookContext
from flagkit._client.overrides import OverrideScope
from flagkit._core.bucketing import bucket_of
from flagkit._core.details import Details, ErrorCode, Reason, Variant
from flagkit._core.snapshot import Snapshot
from flagkit._definitions.schema import json_schema
from flagkit._errors import (
    DefinitionError,
    EvaluationError,
    FlagkitError,
    Problem,
    SourceError,
)
from flagkit._sources.base import Source, SourceStatus
from flagkit._sources.file import FileSource
from flagkit._sources.http import AsyncHTTPSource, HTTPSource
from flagkit._sources.memory import MemorySource
from flagkit._sources.unleash import AsyncUnleashSource, UnleashSource

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
    "ExposureEvent",
    "ExposureLog",
    "FileSource",
    "FlagkitError",
    "HTTPSource",
    "Hook",
    "HookContext",
    "JsonLinesSink",
    "MemorySource",
    "OverrideScope",
    "Problem",
    "Reason",
    "Snapshot",
    "Source",
    "SourceError",
    "SourceStatus",
    "UnleashSource",
    "Variant",
    "bucket_of",
    "current_context",
    "json_schema",
    "reset_context",
    "scoped_context",
    "set_context",
]

__version__ = "0.1.0"
