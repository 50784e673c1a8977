"""Evaluate flagd documents with the real ``openfeature-provider-flagd``, over stdin and stdout.

Runs in whichever environment has the provider installed (0.5.2 in the
project's own, 0.6+ in a second one, since the two cannot share one). Each
input line is ``{"document": ..., "cases": [{"flag", "type", "default",
"targetingKey", "attributes"}, ...]}``; each output line is ``{"results":
[[value, variant, reason, error_code], ...]}`` or ``{"error": "..."}``.

Evaluation goes through the OpenFeature SDK and the provider's in-process
file resolver, exactly as an application reads a flagd file: the document
is written to a file the provider loads.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from openfeature import api
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.evaluation_context import EvaluationContext

GETTERS = {
    "boolean": "get_boolean_details",
    "string": "get_string_details",
    "integer": "get_integer_details",
    "float": "get_float_details",
    "object": "get_object_details",
}


def _evaluate(path: Path, request: dict[str, Any], serial: int) -> list[list[Any]]:
    path.write_text(json.dumps(request["document"]), encoding="utf-8")
    domain = f"reference-{serial}"
    provider = FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=str(path))
    api.set_provider_and_wait(provider, domain)
    client = api.get_client(domain)
    results = []
    try:
        for case in request["cases"]:
            context = EvaluationContext(case["targetingKey"], case["attributes"])
            getter = getattr(client, GETTERS[case["type"]])
            details = getter(case["flag"], case["default"], context)
            code = details.error_code.value if details.error_code is not None else None
            reason = getattr(details.reason, "value", details.reason)
            results.append([details.value, details.variant, reason, code])
    finally:
        api.shutdown()
    return results


def main() -> None:
    """Answer one request per input line until stdin closes."""
    logging.disable(logging.CRITICAL if "-v" not in sys.argv else logging.NOTSET)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "flags.json"
        for serial, line in enumerate(sys.stdin):
            try:
                answer: dict[str, Any] = {"results": _evaluate(path, json.loads(line), serial)}
            except Exception as exc:  # report, and keep serving the next request
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
