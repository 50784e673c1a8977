"""flagkit: fast, testable, in-process feature-flag evaluation.

The public API is what this module exports; ``flagkit._*`` modules are
private and may change without notice.
"""

from flagkit._bucketing import bucket_of
from flagkit._client import Client
from flagkit._details import Details, ErrorCode, Reason
from flagkit._errors import DefinitionError, EvaluationError, FlagkitError, Problem, SourceError
from flagkit._schema import json_schema
from flagkit._snapshot import Snapshot

__all__ = [
    "Client",
    "DefinitionError",
    "Details",
    "ErrorCode",
    "EvaluationError",
    "FlagkitError",
    "Problem",
    "Reason",
    "Snapshot",
    "SourceError",
    "bucket_of",
    "json_schema",
]

__version__ = "0.1.0"
