"""Hypothesis strategies: contexts, valid flag definitions and documents, flag states.

Importing this module needs ``hypothesis`` (``pip install flagkit[test]``);
``import flagkit.testing`` does not. Everything generated is *valid* native
format (flagkit's own property tests load thousands of them), so a
property test of user code never fails on a malformed fixture.

    from hypothesis import given
    from flagkit.testing import strategies as fks

    @given(fks.contexts())
    def test_banner_never_crashes(context): ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from hypothesis import strategies as st

from flagkit._client.client import Client
from flagkit._core.snapshot import Snapshot

__all__ = [
    "FLAG_KEYS",
    "conditions",
    "contexts",
    "documents",
    "flag_definitions",
    "flag_states",
    "variant_sets",
    "weights",
]

ValueKind = Literal["bool", "str", "int", "float", "object"]
VALUE_KINDS: tuple[ValueKind, ...] = ("bool", "str", "int", "float", "object")

#: Flag keys the document strategy draws from (short and readable in failures).
FLAG_KEYS = st.from_regex(r"[a-z][a-z0-9-]{0,11}", fullmatch=True)
_NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,7}", fullmatch=True)
_COUNTRIES = ("NL", "BE", "DE", "FR", "US", "JP")
_PLANS = ("free", "pro", "enterprise")
_ATTRIBUTES = ("country", "plan", "email", "version", "age", "beta", "org.id", "org.plan")
_SAFE_PATTERNS = ("^[a-z]+$", "@example\\.com$", "^user-[0-9]+$", "pro|enterprise")
_SMALL_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_SCALARS = (
    st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
    | st.sampled_from(_COUNTRIES + _PLANS)
    | _SMALL_TEXT
)
_VERSIONS = st.builds("{}.{}.{}".format, st.integers(0, 20), st.integers(0, 20), st.integers(0, 20))
_INSTANTS = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),
    max_value=dt.datetime(2100, 1, 1),
    timezones=st.just(dt.UTC),
)


def contexts(*, targeting_keys: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Any]:
    """Return evaluation contexts: a targeting key, typical attributes, a nested ``org``."""
    org = st.fixed_dictionaries(
        {},
        optional={
            "id": st.from_regex(r"org-[0-9]{1,4}", fullmatch=True),
            "plan": st.sampled_from(_PLANS),
        },
    )
    return st.fixed_dictionaries(
        {"targetingKey": targeting_keys or st.from_regex(r"user-[0-9]{1,6}", fullmatch=True)},
        optional={
            "country": st.sampled_from(_COUNTRIES),
            "plan": st.sampled_from(_PLANS),
            "email": st.emails(),
            "version": _VERSIONS,
            "age": st.integers(0, 120),
            "beta": st.booleans(),
            "org": org,
            "tags": st.lists(st.sampled_from(["beta", "staff", "vip"]), max_size=3),
        },
    )


def weights(names: Sequence[str]) -> st.SearchStrategy[dict[str, float]]:
    """Return rollout weights over ``names``: hundredths of a percent, adding up to 100."""

    def split(cuts: list[int]) -> dict[str, float]:
        bounds = [0, *sorted(cuts), 10_000]
        return {name: (bounds[i + 1] - bounds[i]) / 100 for i, name in enumerate(names)}

    return st.lists(st.integers(0, 10_000), min_size=len(names) - 1, max_size=len(names) - 1).map(
        split
    )


def _operand_condition(attribute: str, op: str) -> st.SearchStrategy[dict[str, Any]]:
    if op in {"lt", "lte", "gt", "gte"}:
        operand: st.SearchStrategy[Any] = st.integers(-100, 200) | st.floats(
            -100, 200, allow_nan=False
        )
    elif op in {"starts_with", "ends_with"}:
        operand = st.sampled_from(["user-", "@example.com", "N", ""]) | _SMALL_TEXT
    elif op == "matches":
        operand = st.sampled_from(_SAFE_PATTERNS)
    elif op.startswith("semver_"):
        operand = _VERSIONS
    elif op in {"before", "after"}:
        operand = _INSTANTS.map(lambda t: t.isoformat())
    else:
        operand = _SCALARS
    single = st.builds(lambda v: {"value": v}, operand)
    several = st.lists(operand, min_size=1, max_size=4).map(lambda vs: {"values": vs})
    return st.builds(
        lambda operands, negate: {"attribute": attribute, "op": op, **operands, "negate": negate},
        single | several,
        st.booleans(),
    )


def conditions(segments: Sequence[str] = ()) -> st.SearchStrategy[dict[str, Any]]:
    """Return valid conditions, with every operator (``in_segment`` over ``segments``)."""
    from flagkit._definitions.model import OPERATORS

    attribute = st.sampled_from((*_ATTRIBUTES, "targetingKey"))
    plain = [op for op in OPERATORS if op not in {"in_segment", "exists"}]
    choices = st.tuples(attribute, st.sampled_from(plain)).flatmap(
        lambda pair: _operand_condition(*pair)
    ) | st.builds(
        lambda a, negate: {"attribute": a, "op": "exists", "negate": negate},
        attribute,
        st.booleans(),
    )
    if segments:
        choices |= st.lists(st.sampled_from(list(segments)), min_size=1, max_size=2).map(
            lambda names: {"op": "in_segment", "values": names}
        )
    return choices


def variant_sets(kind: ValueKind | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Return variant mappings (name -> value) whose values share one type."""
    if kind is None:
        return st.sampled_from(VALUE_KINDS).flatmap(variant_sets)
    if kind == "bool":
        return st.sampled_from([{"on": True, "off": False}, {"off": False, "on": True}])
    value: st.SearchStrategy[Any] = {
        "str": _SMALL_TEXT,
        "int": st.integers(-(2**31), 2**31),
        "float": st.floats(allow_nan=False, allow_infinity=False),
        "object": st.dictionaries(_NAMES, _SCALARS, max_size=3),
    }[kind]
    return st.dictionaries(_NAMES, value, min_size=1, max_size=4)


def _serve(names: list[str]) -> st.SearchStrategy[Any]:
    chosen = st.sampled_from(names)
    rollout = st.builds(
        lambda w, by, salt, schedule: {
            "rollout": {
                "weights": w,
                **({"by": by} if by else {}),
                **({"salt": salt} if salt else {}),
                **({"schedule": schedule} if schedule else {}),
            }
        },
        weights(names),
        st.sampled_from([None, "targetingKey", "org.id", "country"]),
        st.none() | _NAMES,
        st.lists(
            st.tuples(_INSTANTS, weights(names)), max_size=3, unique_by=lambda step: step[0]
        ).map(
            lambda steps: [
                {"at": at.isoformat(), "weights": w}
                for at, w in sorted(steps, key=lambda step: step[0])
            ]
        ),
    )
    return chosen | chosen.map(lambda name: {"variant": name}) | rollout


@st.composite
def flag_definitions(
    draw: st.DrawFn,
    *,
    kind: ValueKind | None = None,
    segments: Sequence[str] = (),
    prerequisites: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Return one valid flag definition (a dict in the native format).

    ``prerequisites`` maps flags it may depend on to their variant names.
    """
    variants = draw(variant_sets(kind))
    names = list(variants)
    flag: dict[str, Any] = {"variants": variants, "default": draw(_serve(names))}
    if draw(st.booleans()):
        flag["off_variant"] = draw(st.sampled_from(names))
    if draw(st.integers(0, 4)) == 0:
        flag["enabled"] = False
    rules = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "when": st.lists(conditions(segments), min_size=1, max_size=3),
                    "serve": _serve(names),
                },
                optional={"name": _NAMES},
            ),
            max_size=3,
        )
    )
    if rules:
        flag["rules"] = rules
    if prerequisites:
        chosen = draw(st.lists(st.sampled_from(sorted(prerequisites)), max_size=2, unique=True))
        if chosen:
            flag["prerequisites"] = [
                {
                    "flag": key,
                    "variants": draw(
                        st.lists(st.sampled_from(list(prerequisites[key])), min_size=1, unique=True)
                    ),
                }
                for key in chosen
            ]
    meta = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "description": _SMALL_TEXT,
                "kind": st.sampled_from(["release", "experiment", "ops", "permission"]),
                "owner": _NAMES,
                # Future dates only: the expiry guard must not fire on generated flags.
                "expires": st.dates(dt.date(2090, 1, 1), dt.date(2099, 12, 31)).map(
                    lambda d: d.isoformat()
                ),
                "tags": st.lists(_NAMES, max_size=3),
                "track_exposure": st.booleans(),
            },
        )
    )
    flag.update(meta)
    return flag


@st.composite
def documents(draw: st.DrawFn, *, max_flags: int = 5, max_segments: int = 2) -> dict[str, Any]:
    """Return a whole valid native document: segments, then flags (prerequisites acyclic)."""
    segment_names = draw(st.lists(_NAMES, max_size=max_segments, unique=True))
    segments = {
        name: draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "include": st.lists(st.from_regex(r"user-[0-9]{1,3}", fullmatch=True)),
                    "exclude": st.lists(st.from_regex(r"user-[0-9]{1,3}", fullmatch=True)),
                    "rules": st.lists(
                        st.builds(
                            lambda when: {"when": when},
                            st.lists(conditions(), min_size=1, max_size=2),
                        ),
                        max_size=2,
                    ),
                },
            )
        )
        for name in segment_names
    }
    keys = draw(st.lists(FLAG_KEYS, min_size=1, max_size=max_flags, unique=True))
    flags: dict[str, Any] = {}
    for key in keys:
        # Only earlier flags may be prerequisites, so no cycle can form.
        earlier = {k: list(f["variants"]) for k, f in flags.items()}
        flags[key] = draw(flag_definitions(segments=segment_names, prerequisites=earlier))
    document: dict[str, Any] = {"version": 1, "flags": flags}
    if segments:
        document["segments"] = segments
    return document


def flag_states(
    flags: Client | Snapshot | Mapping[str, Any],
    *,
    keys: Sequence[str] | None = None,
) -> st.SearchStrategy[dict[str, str]]:
    """Return override mappings putting each flag (of ``keys``, default all) in a variant.

    Pass the result to ``flagkit.testing.override`` to property-test code
    across every combination of flag states.
    """
    variants = _variants_of(flags)
    chosen = list(variants) if keys is None else list(keys)
    return st.fixed_dictionaries({key: st.sampled_from(variants[key]) for key in chosen})


def _variants_of(flags: Client | Snapshot | Mapping[str, Any]) -> dict[str, list[str]]:
    if isinstance(flags, Client | Snapshot):
        snapshot = flags.snapshot if isinstance(flags, Client) else flags
        return {key: list(flag.variants) for key, flag in snapshot.flags.items()}
    return {key: list(flag["variants"]) for key, flag in flags.get("flags", {}).items()}
