"""The fast shapes (msgspec) and the models (pydantic) define one format.

The shapes may refuse what the models accept (the models then decide), but
never accept what the models refuse, and what both accept must evaluate
identically. These tests hold them to the same fields, then compare their
answers on generated documents and on generated corruptions of them.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flagkit import DefinitionError
from flagkit._core.snapshot import Resolution, Snapshot
from flagkit._definitions import model, shapes
from flagkit._sources import native
from flagkit._sources.pipeline import snapshot_from_data
from flagkit.testing import strategies as fks
from tests.helpers import examples

PAIRS = [
    (model.Condition, shapes.Condition),
    (model.SegmentRule, shapes.SegmentRule),
    (model.Segment, shapes.Segment),
    (model.RolloutStep, shapes.RolloutStep),
    (model.Rollout, shapes.Rollout),
    (model.Rule, shapes.Rule),
    (model.Prerequisite, shapes.Prerequisite),
    (model.Flag, shapes.Flag),
]
NOW = dt.datetime(2030, 6, 1, tzinfo=dt.UTC).timestamp()


def _model_fields(cls: type[Any]) -> dict[str, tuple[bool, Any]]:
    return {
        field.alias or name: (
            field.is_required(),
            None if field.is_required() else field.get_default(call_default_factory=True),
        )
        for name, field in cls.model_fields.items()
    }


def _shape_fields(cls: type[Any]) -> dict[str, tuple[bool, Any]]:
    found = {}
    for field in msgspec.structs.fields(cls):
        if field.required:
            found[field.encode_name] = (True, None)
        elif field.default_factory is not msgspec.NODEFAULT:
            found[field.encode_name] = (False, field.default_factory())
        else:
            found[field.encode_name] = (False, field.default)
    return found


@pytest.mark.parametrize(("models", "shape"), PAIRS, ids=lambda cls: cls.__name__)
def test_each_shape_has_its_models_fields_and_defaults(models: type[Any], shape: type[Any]) -> None:
    """A field added to a model (e.g. a rollout's guard) must be added to its shape too."""
    assert _model_fields(models) == _shape_fields(shape)


def test_the_serve_object_has_the_fields_of_both_serve_models() -> None:
    """{variant: ...} and {rollout: ...} are one shape; each field is optional there."""
    expected = dict.fromkeys(
        {**_model_fields(model.ServeVariant), **_model_fields(model.ServeRollout)}, (False, None)
    )
    assert expected == _shape_fields(shapes.ServeObject)


def test_the_envelope_has_the_documents_fields() -> None:
    """$schema, version, segments and flags: the shape keeps entries as JSON text."""
    assert set(_model_fields(model.Document)) == set(_shape_fields(shapes.Document))


def _outcomes(snapshot: Snapshot, contexts: list[dict[str, Any]]) -> list[Any]:
    found = []
    for key in snapshot:
        for context in contexts:
            resolution, bucket = snapshot.flags[key].evaluate(context)
            found.append(
                (
                    key,
                    resolution.variant,
                    repr(resolution.value),
                    resolution.reason,
                    resolution.rule,
                    resolution.error_code,
                    bucket,
                )
            )
    return found


def _json(document: Any) -> bytes:
    return json.dumps(document, default=lambda value: value.isoformat()).encode()


@settings(max_examples=examples(100), deadline=None)
@given(fks.documents(), st.lists(fks.contexts(), min_size=1, max_size=4))
def test_valid_documents_load_fast_and_evaluate_as_the_models_do(
    document: dict[str, Any], contexts: list[dict[str, Any]]
) -> None:
    """Every valid generated document takes the fast path, from JSON and from data."""
    models = snapshot_from_data(document, keep_definitions=True, clock=lambda: NOW)
    from_data = native.snapshot_from_parsed(
        copy.deepcopy(document), origin="t", revision="", clock=lambda: NOW
    )
    from_json = native.snapshot_from_json(
        _json(document), origin="t", revision="", clock=lambda: NOW
    )
    assert from_data is not None
    assert from_json is not None
    tables = _tables(models, contexts)
    assert tables == _tables(from_json, contexts)  # each getter's table, stubs first
    assert tables == _tables(from_data, contexts)
    expected = _outcomes(models, contexts)
    assert expected == _outcomes(from_data, contexts)
    assert expected == _outcomes(from_json, contexts)


def _tables(snapshot: Snapshot, contexts: list[dict[str, Any]]) -> list[Any]:
    """Return, per typed getter's table, each flag's answer to each context."""
    found = []
    for table in snapshot.evaluators:
        for key in sorted(table):
            for context in contexts:
                entry = table[key]
                resolution, bucket = (
                    entry.outcome if isinstance(entry, Resolution) else entry(context)
                )
                found.append(
                    (key, resolution.variant, repr(resolution.value), resolution.reason, bucket)
                )
        found.append("|")
    return found


def _corrupt(document: Any, data: st.DataObject) -> Any:
    """Change one node of ``document``: another type, a dropped or unknown key, an empty list."""
    nodes: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                nodes.append((node, key))
                walk(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                nodes.append((node, index))
                walk(value)

    walk(document)
    parent, key = data.draw(st.sampled_from(nodes))
    action = data.draw(st.sampled_from(["replace", "drop", "unknown", "empty"]))
    if action == "drop" and isinstance(parent, dict):
        del parent[key]
    elif action == "unknown" and isinstance(parent[key], dict):
        parent[key]["surprise"] = 1
    elif action == "empty" and isinstance(parent[key], list | dict):
        parent[key].clear()
    else:
        parent[key] = data.draw(
            st.sampled_from(
                [None, True, 0, -1, 1.5, 101, "", "on", "x" * 300, [], {}, ["on"], {"on": 1}]
            )
        )
    return document


@settings(max_examples=examples(200), deadline=None)
@given(fks.documents(), st.data())
def test_the_fast_path_never_accepts_what_the_models_refuse(
    document: dict[str, Any], data: st.DataObject
) -> None:
    """After one corruption, either the shapes refuse (the models decide) or both accept alike."""
    broken = _corrupt(document, data)
    try:
        models: Snapshot | None = snapshot_from_data(
            copy.deepcopy(broken), keep_definitions=True, clock=lambda: NOW, isolate=False
        )
    except DefinitionError:
        models = None
    for fast in (
        native.snapshot_from_parsed(
            copy.deepcopy(broken), origin="t", revision="", clock=lambda: NOW
        ),
        native.snapshot_from_json(_json(broken), origin="t", revision="", clock=lambda: NOW),
    ):
        if fast is None:
            continue
        assert models is not None, "the shapes accepted a document the models refuse"
        contexts = [{"targetingKey": "u1", "country": "NL", "plan": "pro"}, {}]
        assert _outcomes(models, contexts) == _outcomes(fast, contexts)
