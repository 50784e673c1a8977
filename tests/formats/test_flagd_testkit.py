"""flagd's evaluator test kit, every case, through the Client and through the OpenFeature provider.

The kit (flagd-testbed v3.9.0, ``../shared/conformance/flagd/evaluator/``)
has 125 cases in its v2 set. Each runs through ``Client.from_dict(...,
format="flagd")`` and through ``flagkit.openfeature.FlagkitProvider``; none
is skipped, and the count is asserted so that a parser that lost cases
could not pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.evaluation_context import EvaluationContext

import flagkit
from flagkit.openfeature import FlagkitProvider
from tests.formats.flagd_testkit import Case, Outcome, cases, failures, kit_directory

EXPECTED_CASES = 125
DIRECTORY = kit_directory()
CASES = cases(DIRECTORY)
DOCUMENT: dict[str, Any] = json.loads(
    (DIRECTORY / "flags" / "testkit-flags.json").read_text("utf-8")
)

_CLIENT_GETTERS = {
    "Boolean": "get_bool_details",
    "String": "get_str_details",
    "Integer": "get_int_details",
    "Float": "get_float_details",
    "Object": "get_object_details",
}
_PROVIDER_GETTERS = {
    "Boolean": "get_boolean_details",
    "String": "get_string_details",
    "Integer": "get_integer_details",
    "Float": "get_float_details",
    "Object": "get_object_details",
}


def test_the_kit_has_its_125_cases() -> None:
    """The parser finds every case of the v2 set: a lost case could not pass unnoticed."""
    assert EXPECTED_CASES == len(CASES)
    assert all(case.key and case.checks for case in CASES)


def _via_client(client: flagkit.Client, case: Case) -> Outcome:
    context = dict(case.attributes)
    if case.targeting_key is not None:
        context["targetingKey"] = case.targeting_key
    details = getattr(client, _CLIENT_GETTERS[case.flag_type])(case.key, case.default, context)
    flag = client.snapshot.flags.get(case.key)
    return Outcome(
        details.value,
        details.variant,
        details.reason.value,
        None if details.error_code is None else details.error_code.value,
        dict(flag.metadata) if flag is not None else {},
    )


def test_every_case_passes_through_the_client() -> None:
    """125/125 through ``Client.from_dict(document, format="flagd")``."""
    client = flagkit.Client.from_dict(DOCUMENT, format="flagd")
    failed = {case.name: failures(case, _via_client(client, case)) for case in CASES}
    failed = {name: lines for name, lines in failed.items() if lines}
    assert {} == failed
    assert EXPECTED_CASES == len(CASES) - len(failed)


@pytest.fixture(scope="module")
def provider_client() -> Iterator[OpenFeatureClient]:
    """Return an OpenFeature client backed by flagkit's provider over the kit's document."""
    api.set_provider_and_wait(FlagkitProvider.from_dict(DOCUMENT, format="flagd"), "testkit")
    yield api.get_client("testkit")
    api.clear_providers()


def _via_provider(client: OpenFeatureClient, case: Case) -> Outcome:
    context = EvaluationContext(case.targeting_key, dict(case.attributes))
    details = getattr(client, _PROVIDER_GETTERS[case.flag_type])(case.key, case.default, context)
    return Outcome(
        details.value,
        details.variant,
        str(details.reason),
        None if details.error_code is None else details.error_code.value,
        dict(details.flag_metadata),
    )


def test_every_case_passes_through_the_openfeature_provider(
    provider_client: OpenFeatureClient,
) -> None:
    """125/125 through ``FlagkitProvider`` and the real OpenFeature SDK."""
    failed = {case.name: failures(case, _via_provider(provider_client, case)) for case in CASES}
    failed = {name: lines for name, lines in failed.items() if lines}
    assert {} == failed
    assert EXPECTED_CASES == len(CASES) - len(failed)
