"""Pydantic models of Unleash's client API document, and its delta events.

The document is what ``GET /api/client/features`` returns (``version``,
``features``, ``segments``, ``query``, ``meta``) and what the client
specification's ``state`` holds; the specification's files 19 and 20 hold a
list of delta ``events`` instead (``hydration``, ``feature-updated``,
``feature-removed``, ``segment-updated``, ``segment-removed``), which
:func:`apply_events` folds into a document.

Unknown keys are ignored (servers add fields over time). A problem in the
document's shape is a :class:`~flagkit.DefinitionError` listing every
problem; a problem inside one feature is that feature's alone: it is
reported, located as ``flags.<name>.<field>``, and the other features work
(``UnleashDocument.problems``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flagkit._errors import Problem
from flagkit.formats._problems import Path, definition_error

__all__ = [
    "Constraint",
    "Dependency",
    "Feature",
    "Override",
    "Payload",
    "Segment",
    "Strategy",
    "UnleashDocument",
    "Variant",
    "apply_events",
    "validate_unleash_document",
]


class _Model(BaseModel):
    # Servers send numbers where strings are expected now and then (a
    # numeric parameter); read them as the strings Unleash compares.
    model_config = ConfigDict(
        extra="ignore", frozen=True, coerce_numbers_to_str=True, populate_by_name=True
    )


class Constraint(_Model):
    """One constraint: ``contextName`` ``operator`` ``values`` (or ``value``)."""

    context_name: str = Field(alias="contextName")
    operator: str
    values: list[str] | None = None
    value: str | None = None
    inverted: bool = False
    case_insensitive: bool = Field(False, alias="caseInsensitive")


class Payload(_Model):
    """A variant's payload: ``type`` (string, json, csv, number) and its text."""

    type: str
    value: str


class Override(_Model):
    """Serve a variant to the contexts whose ``contextName`` is one of ``values``."""

    context_name: str = Field(alias="contextName")
    values: list[str] = []


class Variant(_Model):
    """A feature or strategy variant."""

    name: str
    weight: int = 0
    weight_type: str | None = Field(None, alias="weightType")
    stickiness: str | None = None
    payload: Payload | None = None
    overrides: list[Override] | None = None


class Strategy(_Model):
    """An activation strategy with its parameters, constraints, segments and variants."""

    name: str
    parameters: dict[str, str] | None = None
    constraints: list[Constraint] | None = None
    segments: list[int] | None = None
    variants: list[Variant] | None = None


class Dependency(_Model):
    """A parent feature this one needs (enabled, disabled, or serving given variants)."""

    feature: str
    enabled: bool | None = None
    variants: list[str] | None = None


class Feature(_Model):
    """A feature toggle as the client API sends it."""

    name: str
    enabled: bool = False
    strategies: list[Strategy] | None = None
    variants: list[Variant] | None = None
    dependencies: list[Dependency] | None = None
    impression_data: bool | None = Field(None, alias="impressionData")
    description: str | None = None
    type: str | None = None
    project: str | None = None


class Segment(_Model):
    """A reusable list of constraints, referred to by id from strategies."""

    id: int
    name: str | None = None
    constraints: list[Constraint] = []


class UnleashDocument(_Model):
    """A validated client API document: its features, segments, and isolated problems."""

    version: int | None = None
    features: dict[str, Feature | None]
    segments: dict[int, Segment] = {}
    problems: tuple[Problem, ...] = ()


def _problems(exc: ValidationError, prefix: Path) -> list[Problem]:
    return [
        Problem((*prefix, *error["loc"]), error["msg"]) for error in exc.errors(include_url=False)
    ]


def validate_unleash_document(raw: Any, *, source: str | None = None) -> UnleashDocument:
    """Validate a parsed client API document (or a ``{"events": [...]}`` delta list).

    Raises :class:`~flagkit.DefinitionError` with every problem of the
    document's shape; a feature with a problem of its own is kept as None
    in ``features`` and its problems are in ``problems``.
    """
    if isinstance(raw, Mapping) and "events" in raw and "features" not in raw:
        raw = apply_events(raw["events"], source=source)
    if not isinstance(raw, Mapping):
        raise definition_error(
            [Problem((), "an Unleash document is a JSON object with `features`")], source=source
        )
    shape: list[Problem] = []
    isolated: list[Problem] = []
    features: dict[str, Feature | None] = {}
    raw_features = raw.get("features")
    if not isinstance(raw_features, Sequence) or isinstance(raw_features, str | bytes):
        shape.append(Problem(("features",), "must be a list of features"))
        raw_features = []
    for index, item in enumerate(raw_features):
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            shape.append(Problem(("features", index, "name"), "a feature needs a non-empty name"))
            continue
        if name in features:
            shape.append(Problem(("features", index, "name"), f"feature {name!r} is listed twice"))
            continue
        try:
            features[name] = Feature.model_validate(item)
        except ValidationError as exc:
            features[name] = None
            isolated.extend(_problems(exc, ("flags", name)))
    segments: dict[int, Segment] = {}
    raw_segments = raw.get("segments") or []
    if not isinstance(raw_segments, Sequence) or isinstance(raw_segments, str | bytes):
        shape.append(Problem(("segments",), "must be a list of segments"))
        raw_segments = []
    for index, item in enumerate(raw_segments):
        try:
            segment = Segment.model_validate(item)
        except ValidationError as exc:
            shape.extend(_problems(exc, ("segments", index)))
            continue
        segments[segment.id] = segment
    version = raw.get("version")
    if shape:
        raise definition_error([*shape, *isolated], source=source)
    return UnleashDocument(
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        features=features,
        segments=segments,
        problems=tuple(isolated),
    )


def apply_events(
    events: Any, base: Mapping[str, Any] | None = None, *, source: str | None = None
) -> dict[str, Any]:
    """Fold delta events into a client API document (over ``base``, else an empty one).

    The events of Unleash's delta API, in order: ``hydration`` replaces
    everything; ``feature-updated`` / ``segment-updated`` add or replace one
    item; ``feature-removed`` / ``segment-removed`` drop one.
    """
    features: dict[Any, Any] = {}
    segments: dict[Any, Any] = {}
    if base is not None:
        features = {f.get("name"): f for f in base.get("features") or [] if isinstance(f, Mapping)}
        segments = {s.get("id"): s for s in base.get("segments") or [] if isinstance(s, Mapping)}
    if not isinstance(events, Sequence) or isinstance(events, str | bytes):
        raise definition_error([Problem(("events",), "must be a list of events")], source=source)
    problems: list[Problem] = []
    for index, event in enumerate(events):
        kind = event.get("type") if isinstance(event, Mapping) else None
        if kind == "hydration":
            features = {f.get("name"): f for f in event.get("features") or []}
            segments = {s.get("id"): s for s in event.get("segments") or []}
        elif kind == "feature-updated" and isinstance(event.get("feature"), Mapping):
            features[event["feature"].get("name")] = event["feature"]
        elif kind == "feature-removed":
            features.pop(event.get("featureName"), None)
        elif kind == "segment-updated" and isinstance(event.get("segment"), Mapping):
            segments[event["segment"].get("id")] = event["segment"]
        elif kind == "segment-removed":
            segments.pop(event.get("segmentId"), None)
        else:
            problems.append(Problem(("events", index, "type"), f"unknown delta event {kind!r}"))
    if problems:
        raise definition_error(problems, source=source)
    return {"version": 2, "features": list(features.values()), "segments": list(segments.values())}
