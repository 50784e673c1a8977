"""Explain and evaluation run one plan, so they agree on every document and context."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flagkit._core.codegen import render
from flagkit._core.details import Reason
from flagkit._core.explain import explain
from flagkit._core.plan import Plan
from flagkit._core.snapshot import Resolution
from flagkit._sources.pipeline import snapshot_from_data
from flagkit.testing import strategies as fks
from tests.helpers import examples

#: Contexts that reach every branch: typical attributes, and values rules refuse.
odd_values = st.one_of(
    st.none(),
    st.integers(-(2**65), 2**65),
    st.floats(allow_nan=True),
    st.text(max_size=6),
    st.sampled_from(["\ud800", "", "NL", "pro", "1.2.3"]),
    st.lists(st.text(max_size=3), max_size=3),
)
odd_contexts = st.dictionaries(
    st.sampled_from(["targetingKey", "country", "plan", "email", "version", "age", "beta", "org"]),
    odd_values,
    max_size=6,
)
contexts = st.one_of(fks.contexts(), odd_contexts)
instants = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1), timezones=st.just(dt.UTC)
)


def _operands(document: dict[str, Any]) -> list[Any]:
    """Return every operand the document's conditions name (contexts that match them)."""
    found: list[Any] = ["NL"]
    for flag in document["flags"].values():
        for rule in flag.get("rules", []):
            for condition in rule["when"]:
                found += condition.get("values", [])
                if "value" in condition:
                    found.append(condition["value"])
    return found


def _stringly(document: dict[str, Any]) -> dict[str, Any]:
    """Return the document with string operands for equals and in (their inlined form)."""
    for flag in document["flags"].values():
        for rule in flag.get("rules", []):
            for condition in rule["when"]:
                if condition["op"] in ("equals", "in"):
                    condition["negate"] = False
                    if "values" in condition:
                        condition["values"] = [str(v) for v in condition["values"]]
                    if "value" in condition:
                        condition["value"] = str(condition["value"])
    return document


@st.composite
def matching_contexts(draw: st.DrawFn, document: dict[str, Any]) -> dict[str, Any]:
    """Return a context whose attributes take the document's own operands (rules match)."""
    attributes = ["targetingKey", "country", "plan", "email", "version", "age", "beta"]
    values = st.sampled_from(_operands(document)) | odd_values
    context = draw(st.dictionaries(st.sampled_from(attributes), values, max_size=7))
    if draw(st.booleans()):
        context["org"] = {"id": draw(values), "plan": draw(values)}
    return context


@settings(max_examples=examples(200), deadline=None)
@given(data=st.data(), document=fks.documents() | fks.documents().map(_stringly), now=instants)
def test_explain_ends_where_evaluation_does(
    data: st.DataObject, document: dict[str, Any], now: dt.datetime
) -> None:
    """For every flag: value, variant, reason, rule, error code and bucket agree."""
    context_list = data.draw(
        st.lists(contexts | matching_contexts(document), min_size=1, max_size=6)
    )
    instant = now.timestamp()
    snapshot = snapshot_from_data(document, clock=lambda: instant)
    for key, flag in snapshot.flags.items():
        for context in context_list:
            resolution, bucket = flag.evaluate(context)
            trace = explain(snapshot, key, context)
            code = None if resolution.error_code is None else resolution.error_code.value
            value = resolution.value if resolution.has_value else None
            expected = (value, resolution.variant, resolution.reason.value, resolution.rule)
            assert expected == (trace.value, trace.variant, trace.reason, trace.rule)
            assert (code, bucket) == (trace.error_code, trace.bucket)
            if trace.rollout is not None and bucket is not None:
                assert bucket == trace.rollout.bucket


@settings(max_examples=examples(200), deadline=None)
@given(data=st.data(), document=fks.documents().map(_stringly))
def test_every_rule_step_matches_as_the_evaluator_would(
    data: st.DataObject, document: dict[str, Any]
) -> None:
    """Each rule the trace shows matched iff an evaluator of that rule alone serves it.

    Explain reports every rule it tried; this checks each report against a
    flag evaluator rendered with just that rule, so a check the trace got
    wrong shows up even when a later step hides it from the outcome.
    """
    context_list = data.draw(st.lists(matching_contexts(document), min_size=1, max_size=4))
    snapshot = snapshot_from_data(document, clock=lambda: 1.8e9)
    unmatched = Resolution("f", reason=Reason.DEFAULT, has_value=False).outcome
    for key, flag in snapshot.flags.items():
        alone = [render(Plan(key, default=unmatched, rules=(rule,))) for rule in flag.plan.rules]
        for context in context_list:
            steps = explain(snapshot, key, context).rules
            expected = [evaluate(context) is not unmatched for evaluate in alone[: len(steps)]]
            assert expected == [step.matched for step in steps]
