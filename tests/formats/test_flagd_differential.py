"""Differential test: flagkit's flagd evaluator against the official Python provider.

Runs only where ``openfeature-provider-flagd`` is installed (it is not a flagkit
dependency). The provider evaluates in-process from a file
(``ResolverType.FILE`` with ``offline_flag_source_path``), which works offline.
Pin ``openfeature-provider-flagd==0.5.2`` (``openfeature-flagd-core==1.0.0``):
it implements fractional v2, hashing the bucketing string itself; 0.6 and later
hash a CBOR encoding of it (flagd's "hardened hashing"), which flagkit does
not implement.

Contexts avoid the few inputs where flagd's Go engine (which flagkit follows)
and this provider disagree: an empty targeting key or bucketing string (the
provider treats it as absent) and a null bucketing value (Go falls back to the
targeting key, the provider returns null).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("openfeature.contrib.provider.flagd")

from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.evaluation_context import EvaluationContext

import flagkit
from tests.formats.flagd_cases import DOCUMENT, STRING_FLAGS, random_contexts
from tests.formats.flagd_resolve import flagd_client, resolve


@pytest.fixture(scope="module")
def document_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the path of the shared flagd document, written as JSON."""
    path = Path(tmp_path_factory.mktemp("flagd")) / "flags.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def provider_client(document_path: Path) -> Iterator[OpenFeatureClient]:
    """Return an OpenFeature client backed by the official flagd provider in file mode."""
    provider = FlagdProvider(
        resolver_type=ResolverType.FILE, offline_flag_source_path=str(document_path)
    )
    api.set_provider_and_wait(provider, "flagkit-differential")
    yield api.get_client("flagkit-differential")
    api.shutdown()


#: One evaluation: (flag key, targeting key, attributes, default, is a string flag)
#: -> (value, variant, reason, error code or None).
Evaluate = Callable[[str, "str | None", dict[str, Any], Any, bool], tuple[Any, ...]]


def _differences(provider_client: OpenFeatureClient, evaluate: Evaluate) -> list[Any]:
    """Return every (case, theirs, ours) where flagkit and the provider disagree."""
    differences = []
    for targeting_key, attributes in random_contexts(1500):
        context = EvaluationContext(targeting_key, attributes)
        for key in [*DOCUMENT["flags"], "missing"]:
            is_string = key in STRING_FLAGS or key == "missing"
            default: Any = "fallback" if is_string else False
            if is_string:
                theirs = provider_client.get_string_details(key, default, context)
            else:
                theirs = provider_client.get_boolean_details(key, default, context)
            code = theirs.error_code.value if theirs.error_code is not None else None
            expected = (theirs.value, theirs.variant, str(theirs.reason), code)
            actual = evaluate(key, targeting_key, attributes, default, is_string)
            if expected != actual:
                differences.append(((key, targeting_key, attributes), expected, actual))
    return differences


def test_client_over_flagd_file_agrees(
    provider_client: OpenFeatureClient, document_path: Path
) -> None:
    """flagkit's Client reading the same file (snapshot path) agrees with the provider."""
    client = flagkit.Client.from_file(document_path, format="flagd")

    def evaluate(
        key: str, targeting_key: str | None, attributes: dict[str, Any], default: Any, text: bool
    ) -> tuple[Any, ...]:
        context = dict(attributes)
        if targeting_key is not None:  # as the OpenFeature provider maps its context
            context["targetingKey"] = targeting_key
        if text:
            ours = client.get_str_details(key, default, context)
        else:
            ours = client.get_bool_details(key, default, context)
        code = None if ours.error_code is None else ours.error_code.value
        return (ours.value, ours.variant, ours.reason.value, code)

    with client:
        assert [] == _differences(provider_client, evaluate)


def test_every_outcome_is_exercised(provider_client: OpenFeatureClient) -> None:
    """The random contexts reach every reason, so agreement above means something."""
    client = flagd_client(DOCUMENT)
    reasons = {
        resolve(client, key, {**attributes, "targetingKey": tk}).reason
        for tk, attributes in random_contexts(300)
        for key in DOCUMENT["flags"]
    }
    expected = {"STATIC", "TARGETING_MATCH", "DEFAULT", "DISABLED", "ERROR"}
    assert expected == reasons
