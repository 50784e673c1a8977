"""The JSON Schema of the native format, for editors and other tools."""

from __future__ import annotations

from typing import Any

__all__ = ["SCHEMA_ID", "json_schema"]

SCHEMA_ID = "https://flagkit.dev/schema/v1/flags.json"


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a native flag document."""
    from flagkit._definitions.model import Document  # pydantic: only when asked for

    schema = Document.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "flagkit flag document",
    }
