"""Invariants checked with flagkit.testing.strategies: generated documents are valid."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flagkit
from flagkit import Reason
from flagkit._sources.pipeline import snapshot_from_data
from flagkit.testing import override
from flagkit.testing import strategies as fks
from tests.helpers import examples

SETTINGS = settings(
    max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(fks.documents(), st.lists(fks.contexts(), min_size=1, max_size=3))
def test_any_generated_document_loads_and_serves_declared_variants(
    document: dict[str, Any], contexts: list[dict[str, Any]]
) -> None:
    """Every generated document loads and compiles; evaluations serve a declared variant."""
    snapshot = snapshot_from_data(document)
    client = flagkit.Client(snapshot)
    default = object()
    for context in contexts:
        for key, flag in snapshot.flags.items():
            details = client.get_details(key, default, context)
            if details.variant is None:
                assert details.value is default
            else:
                assert flag.variants[details.variant] == details.value


@SETTINGS
@given(st.data())
def test_generated_flag_states_force_those_variants(data: st.DataObject) -> None:
    """A drawn flag state, applied with override, is what every flag then serves."""
    document = data.draw(fks.documents(max_flags=3))
    client = flagkit.Client.from_dict(document)
    state = data.draw(fks.flag_states(client))
    with override(client, state):
        served = {key: client.get_details(key, None) for key in state}
    assert state == {key: details.variant for key, details in served.items()}
    assert all(details.reason is Reason.OVERRIDE for details in served.values())


@SETTINGS
@given(fks.flag_definitions(kind="int"), fks.contexts())
def test_flag_definitions_of_one_kind_serve_that_type(
    flag: dict[str, Any], context: dict[str, Any]
) -> None:
    """A definition drawn for one value type is served as that type."""
    client = flagkit.Client.from_dict({"flags": {"f": flag}})
    value = client.get_int("f", -1, context)
    assert isinstance(value, int)
