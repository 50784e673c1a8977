"""flagkit: fast, testable, in-process feature-flag evaluation.

The public API is what this module exports (plus ``flagkit.typing``,
``flagkit.testing`` and ``flagkit.formats.*``); ``flagkit._*`` modules are
private and may change without notice.
"""

from flagkit._bucketing import bucket_of
from flagkit._changes import ChangeEvent
from flagkit._client import Client, ClientStatus
from flagkit._context import (
    Context,
    current_context,
    reset_context,
    scoped_context,
    set_context,
)
from flagkit._counters import CountKey
from flagkit._details import Details, ErrorCode, Reason
from flagkit._errors import (
    DefinitionError,
    EvaluationError,
    FlagkitError,
    Problem,
    SourceError,
)
from flagkit._exposure import CallbackSink, ExposureEvent, ExposureLog, JsonLinesSink
from flagkit._file_source import FileSource
from flagkit._hooks import Hook, HookContext
from flagkit._http_source import AsyncHTTPSource, HTTPSource
from flagkit._memory_source import MemorySource
from flagkit._overrides import OverrideScope
from flagkit._schema import json_schema
from flagkit._snapshot import Snapshot
from flagkit._source import Source, SourceStatus

__all__ = [
    "AsyncHTTPSource",
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
    "bucket_of",
    "current_context",
    "json_schema",
    "reset_context",
    "scoped_context",
    "set_context",
]

__version__ = "0.1.0"
