"""Flag documents built in code: a fluent builder over the native format.

The builder only assembles plain dicts in the native format (see
docs/format.md); ``FlagSet.build()`` then runs them through the real loader,
so whatever the builder produces is exactly what a flag file could say, and
a mistake fails with the loader's located ``DefinitionError``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, Unpack

from flagkit._client.client import Client
from flagkit._client.observed import copy_json
from flagkit._core.snapshot import Snapshot
from flagkit._definitions.model import Operator
from flagkit._sources.pipeline import snapshot_from_data

__all__ = [
    "AttributeRef",
    "Cond",
    "FlagBuilder",
    "FlagSet",
    "GuardMetricKind",
    "MetaOptions",
    "attr",
    "boolean",
    "guard",
    "in_segment",
    "metric",
    "rollout",
]

Kind = Literal["release", "experiment", "ops", "permission"]
GuardMetricKind = Literal["error_rate", "latency", "event_rate", "event_mean"]
Scalar = str | bool | int | float


class MetaOptions(TypedDict, total=False):
    """A flag's descriptive options, as ``FlagBuilder.meta`` takes them."""

    description: str | None
    kind: Kind | None
    owner: str | None
    expires: dt.date | str | None
    tags: Iterable[str] | None
    track_exposure: bool | None


#: Operators whose operand is naturally a list: always written as ``values``.
_LIST_OPERATORS = frozenset({"in", "not_in", "in_segment"})
Schedule = Sequence[tuple[dt.datetime | str, Mapping[str, float]]]


@dataclass(frozen=True, slots=True)
class Cond:
    """One condition of a rule, as the native format writes it; ``~cond`` negates it."""

    op: Operator
    attribute: str | None = None
    operands: tuple[Scalar, ...] = ()
    negate: bool = False

    def __invert__(self) -> Cond:
        return Cond(self.op, self.attribute, self.operands, not self.negate)

    def to_dict(self) -> dict[str, Any]:
        """Return the condition as a native-format mapping."""
        data: dict[str, Any] = {"op": self.op}
        if self.attribute is not None:
            data["attribute"] = self.attribute
        if len(self.operands) == 1 and self.op not in _LIST_OPERATORS:
            data["value"] = self.operands[0]
        elif self.operands:
            data["values"] = list(self.operands)
        if self.negate:
            data["negate"] = True
        return data


#: A rule's conditions: one condition, or several (all must hold); raw dicts work too.
WhenLike = Cond | Mapping[str, Any] | Iterable[Cond | Mapping[str, Any]]


class AttributeRef:
    """A context attribute to build conditions on: ``attr("country").in_(["NL"])``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def _cond(self, op: Operator, *operands: Any) -> Cond:
        return Cond(op, self.name, tuple(_scalar(v) for v in operands))

    def equals(self, value: Scalar) -> Cond:
        """Hold when the attribute equals ``value``."""
        return self._cond("equals", value)

    def not_equals(self, value: Scalar) -> Cond:
        """Hold when the attribute differs from ``value``."""
        return self._cond("not_equals", value)

    def in_(self, values: Iterable[Scalar]) -> Cond:
        """Hold when the attribute is one of ``values``."""
        return Cond("in", self.name, tuple(values))

    def not_in(self, values: Iterable[Scalar]) -> Cond:
        """Hold when the attribute is none of ``values``."""
        return Cond("not_in", self.name, tuple(values))

    def contains(self, value: Scalar) -> Cond:
        """Hold when the attribute (a string or list) contains ``value``."""
        return self._cond("contains", value)

    def starts_with(self, prefix: str) -> Cond:
        """Hold when the attribute starts with ``prefix``."""
        return self._cond("starts_with", prefix)

    def ends_with(self, suffix: str) -> Cond:
        """Hold when the attribute ends with ``suffix``."""
        return self._cond("ends_with", suffix)

    def matches(self, pattern: str) -> Cond:
        """Hold when the attribute matches the (safe) regular expression ``pattern``."""
        return self._cond("matches", pattern)

    def lt(self, number: float) -> Cond:
        """Hold when the attribute is a number below ``number``."""
        return self._cond("lt", number)

    def lte(self, number: float) -> Cond:
        """Hold when the attribute is a number at most ``number``."""
        return self._cond("lte", number)

    def gt(self, number: float) -> Cond:
        """Hold when the attribute is a number above ``number``."""
        return self._cond("gt", number)

    def gte(self, number: float) -> Cond:
        """Hold when the attribute is a number at least ``number``."""
        return self._cond("gte", number)

    def semver_eq(self, version: str) -> Cond:
        """Hold when the attribute is the semantic version ``version``."""
        return self._cond("semver_eq", version)

    def semver_lt(self, version: str) -> Cond:
        """Hold when the attribute is a semantic version below ``version``."""
        return self._cond("semver_lt", version)

    def semver_lte(self, version: str) -> Cond:
        """Hold when the attribute is a semantic version at most ``version``."""
        return self._cond("semver_lte", version)

    def semver_gt(self, version: str) -> Cond:
        """Hold when the attribute is a semantic version above ``version``."""
        return self._cond("semver_gt", version)

    def semver_gte(self, version: str) -> Cond:
        """Hold when the attribute is a semantic version at least ``version``."""
        return self._cond("semver_gte", version)

    def before(self, instant: dt.datetime | str | float) -> Cond:
        """Hold when the attribute is an instant before ``instant``."""
        return self._cond("before", instant)

    def after(self, instant: dt.datetime | str | float) -> Cond:
        """Hold when the attribute is an instant after ``instant``."""
        return self._cond("after", instant)

    def exists(self) -> Cond:
        """Hold when the attribute is present."""
        return Cond("exists", self.name)

    def __repr__(self) -> str:
        return f"attr({self.name!r})"


def attr(name: str) -> AttributeRef:
    """Return a reference to a context attribute (dotted for nested values)."""
    return AttributeRef(name)


def in_segment(*segments: str) -> Cond:
    """Return a condition holding for contexts in any of ``segments``."""
    return Cond("in_segment", None, segments)


def _scalar(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _when(when: WhenLike) -> list[dict[str, Any]]:
    items = [when] if isinstance(when, Cond | Mapping) else list(when)
    return [c.to_dict() if isinstance(c, Cond) else dict(c) for c in items]


def metric(
    kind: GuardMetricKind,
    effect: float,
    *,
    worse: Literal["higher", "lower"] | None = None,
    quantile: float | None = None,
    event: str | None = None,
) -> dict[str, Any]:
    """Return one metric of a guard, e.g. ``metric("error_rate", 0.005)``."""
    given = {"worse": worse, "quantile": quantile, "event": event}
    return {"metric": kind, "effect": effect, **{k: v for k, v in given.items() if v is not None}}


def guard(
    control: str,
    *metrics: Mapping[str, Any],
    alpha: float | None = None,
    min_sample: int | None = None,
    action: Literal["pause", "rollback"] | None = None,
) -> dict[str, Any]:
    """Return a rollout's guard: compare with ``control`` on ``metrics`` (see ``metric``)."""
    given = {"alpha": alpha, "min_sample": min_sample, "action": action}
    return {
        "control": control,
        "metrics": [dict(m) for m in metrics],
        **{k: v for k, v in given.items() if v is not None},
    }


def _rollout(
    weights: Mapping[str, float],
    *,
    by: str | None,
    salt: str | None,
    schedule: Schedule,
    guard: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"weights": dict(weights)}
    if by is not None:
        data["by"] = by
    if salt is not None:
        data["salt"] = salt
    if schedule:
        data["schedule"] = [{"at": _scalar(at), "weights": dict(step)} for at, step in schedule]
    if guard is not None:
        data["guard"] = copy_json(dict(guard))
    return {"rollout": data}


def _serve(
    serve: str | None,
    rollout: Mapping[str, float] | None,
    by: str | None,
    salt: str | None,
    schedule: Schedule,
    *,
    guard: Mapping[str, Any] | None,
) -> str | dict[str, Any]:
    if (serve is None) == (rollout is None):
        raise ValueError("give exactly one of serve= (a variant) or rollout= (weights)")
    if serve is not None:
        if guard is not None:
            raise ValueError("guard= needs rollout= (a guard watches a rollout)")
        return serve
    assert rollout is not None
    return _rollout(rollout, by=by, salt=salt, schedule=schedule, guard=guard)


class FlagBuilder:
    """Build one flag; every method returns the builder, ``build()`` the whole document.

    When no default is given, the flag serves its first declared variant.
    """

    def __init__(self, flag_set: FlagSet, key: str, definition: dict[str, Any]) -> None:
        self._set = flag_set
        self.key = key
        self._data = definition

    def variants(self, mapping: Mapping[str, Any] | None = None, /, **named: Any) -> FlagBuilder:
        """Declare the variants (name -> value), e.g. ``variants(on=True, off=False)``."""
        self._data["variants"] = {**(mapping or {}), **named}
        return self

    def rule(
        self,
        when: WhenLike,
        *,
        serve: str | None = None,
        rollout: Mapping[str, float] | None = None,
        by: str | None = None,
        salt: str | None = None,
        schedule: Schedule = (),
        name: str | None = None,
        guard: Mapping[str, Any] | None = None,
    ) -> FlagBuilder:
        """Add a targeting rule: when every condition holds, serve a variant or a rollout.

        ``guard`` (see ``flagkit.testing.guard``) watches the rule's rollout.
        """
        rule: dict[str, Any] = {"when": _when(when)}
        if name is not None:
            rule["name"] = name
        rule["serve"] = _serve(serve, rollout, by, salt, schedule, guard=guard)
        self._data.setdefault("rules", []).append(rule)
        return self

    def serve(self, variant: str) -> FlagBuilder:
        """Serve ``variant`` when no rule matches (the default)."""
        self._data["default"] = variant
        return self

    def rollout(
        self,
        weights: Mapping[str, float],
        *,
        by: str | None = None,
        salt: str | None = None,
        schedule: Schedule = (),
        guard: Mapping[str, Any] | None = None,
    ) -> FlagBuilder:
        """Serve a weighted split when no rule matches; ``schedule`` ramps it over time.

        ``guard`` (see ``flagkit.testing.guard``) watches the rollout's outcomes.
        """
        self._data["default"] = _rollout(weights, by=by, salt=salt, schedule=schedule, guard=guard)
        return self

    def requires(self, flag: str, *variants: str) -> FlagBuilder:
        """Serve this flag only when ``flag`` serves one of ``variants`` (a prerequisite)."""
        self._data.setdefault("prerequisites", []).append(
            {"flag": flag, "variants": list(variants)}
        )
        return self

    def off(self, variant: str | None = None) -> FlagBuilder:
        """Turn the flag off (the kill switch); it serves ``variant`` or the caller's default."""
        self._data["enabled"] = False
        if variant is not None:
            self._data["off_variant"] = variant
        return self

    def off_variant(self, variant: str) -> FlagBuilder:
        """Serve ``variant`` when the flag is off or a prerequisite fails."""
        self._data["off_variant"] = variant
        return self

    def meta(
        self,
        *,
        description: str | None = None,
        kind: Kind | None = None,
        owner: str | None = None,
        expires: dt.date | str | None = None,
        tags: Iterable[str] | None = None,
        track_exposure: bool | None = None,
    ) -> FlagBuilder:
        """Set descriptive metadata (only the arguments given)."""
        given = {
            "description": description,
            "kind": kind,
            "owner": owner,
            "expires": _scalar(expires),
            "tags": None if tags is None else list(tags),
            "track_exposure": track_exposure,
        }
        self._data.update({k: v for k, v in given.items() if v is not None})
        return self

    def expires(self, day: dt.date | str) -> FlagBuilder:
        """Set the date after which the flag counts as expired (see the expiry guard)."""
        return self.meta(expires=day)

    # -- back to the flag set ---------------------------------------------------

    def flag(self, key: str, **meta: Unpack[MetaOptions]) -> FlagBuilder:
        """Start another flag in the same set."""
        return self._set.flag(key, **meta)

    def boolean(self, key: str, *, on: bool = False, **meta: Unpack[MetaOptions]) -> FlagSet:
        """Add an on/off flag to the same set."""
        return self._set.boolean(key, on=on, **meta)

    def segment(self, name: str, **options: Any) -> FlagSet:
        """Add a segment to the same set."""
        return self._set.segment(name, **options)

    def document(self) -> dict[str, Any]:
        """Return the whole native document (not validated)."""
        return self._set.document()

    def build(self) -> dict[str, Any]:
        """Return the whole native document, validated by the real loader."""
        return self._set.build()

    def snapshot(self, **options: Any) -> Snapshot:
        """Return the whole flag set compiled."""
        return self._set.snapshot(**options)

    def client(self, **options: Any) -> Client:
        """Return a real client over the whole flag set."""
        return self._set.client(**options)


class FlagSet:
    """A flag document under construction: flags, segments, then a client.

    ``FlagSet().flag("new-checkout").variants(on=True, off=False).serve("on").client()``
    """

    def __init__(self) -> None:
        self._flags: dict[str, dict[str, Any]] = {}
        self._segments: dict[str, dict[str, Any]] = {}

    def flag(self, key: str, **meta: Unpack[MetaOptions]) -> FlagBuilder:
        """Start (or restart) flag ``key``; the returned builder adds its details."""
        builder = FlagBuilder(self, key, {})
        self._flags[key] = builder._data
        return builder.meta(**meta)

    def boolean(self, key: str, *, on: bool = False, **meta: Unpack[MetaOptions]) -> FlagSet:
        """Add a boolean flag with variants ``on``/``off``, serving ``on`` when ``on=True``."""
        self.flag(key, **meta).variants(on=True, off=False).off_variant("off").serve(
            "on" if on else "off"
        )
        return self

    def rollout(
        self,
        key: str,
        weights: Mapping[str, float],
        *,
        values: Mapping[str, Any] | None = None,
        by: str | None = None,
        salt: str | None = None,
        schedule: Schedule = (),
        guard: Mapping[str, Any] | None = None,
        **meta: Unpack[MetaOptions],
    ) -> FlagSet:
        """Add a flag splitting users by ``weights`` (``guard`` watches the rollout).

        Variant values default to True/False for ``on``/``off`` and to the
        variant name otherwise; ``values`` sets them explicitly.
        """
        names = {**{name: _default_value(name) for name in weights}, **(values or {})}
        self.flag(key, **meta).variants(names).rollout(
            weights, by=by, salt=salt, schedule=schedule, guard=guard
        )
        return self

    def segment(
        self,
        name: str,
        *,
        include: Iterable[str | int] = (),
        exclude: Iterable[str | int] = (),
        rules: Iterable[WhenLike] = (),
        by: str | None = None,
        description: str | None = None,
    ) -> FlagSet:
        """Add a segment: keys excluded, keys included, then any rule (a list of conditions)."""
        data: dict[str, Any] = {}
        if description is not None:
            data["description"] = description
        if by is not None:
            data["by"] = by
        if include:
            data["include"] = list(include)
        if exclude:
            data["exclude"] = list(exclude)
        if rules:
            data["rules"] = [{"when": _when(rule)} for rule in rules]
        self._segments[name] = data
        return self

    def document(self) -> dict[str, Any]:
        """Return the native document as plain data (not validated)."""
        flags: dict[str, Any] = {}
        for key, data in self._flags.items():
            flag = {k: copy_json(v) for k, v in data.items()}
            if "default" not in flag and flag.get("variants"):
                flag["default"] = next(iter(flag["variants"]))
            flags[key] = flag
        document: dict[str, Any] = {"version": 1, "flags": flags}
        if self._segments:
            document["segments"] = copy_json(self._segments)
        return document

    def build(self) -> dict[str, Any]:
        """Return the native document, validated by the real loader (DefinitionError if not)."""
        document = self.document()
        snapshot_from_data(document, isolate=False)
        return document

    def snapshot(self, **options: Any) -> Snapshot:
        """Return the flag set compiled (``clock=`` sets the time schedules read)."""
        return snapshot_from_data(self.document(), isolate=False, **options)

    def client(self, **options: Any) -> Client:
        """Return a real ``flagkit.Client`` over these flags; options go to the client."""
        return Client.from_dict(self.document(), **options)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the validated document as a JSON flag file."""
        import json

        with open(path, "w", encoding="utf-8") as file:
            json.dump(self.build(), file, indent=2)

    def __len__(self) -> int:
        return len(self._flags)


def _default_value(name: str) -> Any:
    return {"on": True, "off": False}.get(name, name)


def boolean(key: str, *, on: bool = False, **meta: Unpack[MetaOptions]) -> FlagSet:
    """Return a flag set with one on/off flag (``on=True`` serves ``on``)."""
    return FlagSet().boolean(key, on=on, **meta)


def rollout(key: str, weights: Mapping[str, float], **options: Any) -> FlagSet:
    """Return a flag set with one flag splitting users by ``weights``."""
    return FlagSet().rollout(key, weights, **options)
