"""Hostile inputs, shared by the robustness tests and ``benchmarks/fuzz.py``.

Evaluation must never raise, crash or hang, whatever a caller passes
(DESIGN.md, invariant 1). These are the worst things a caller can pass:

* *torture* subclasses of ``str``, ``int``, ``float``, ``list``, ``tuple``
  and ``dict`` that override every method they can, including ``__class__``
  as a property, either to raise (``Hostile``) or to lie (``__eq__``
  always True, ``__hash__`` 0, ``__len__`` 0, ``isascii`` True, ``encode``
  returning a ``str`` with a lone surrogate, ``__iter__`` never ending...);
* objects whose every dunder raises, mappings whose ``get``, ``items``,
  ``__iter__``, ``__len__``, ``__getitem__`` or ``__bool__`` raise, objects
  posing as a ``dict`` through ``__class__``;
* lone surrogates, huge strings and integers, NaN, deep nesting, ``IntEnum``
  and ``StrEnum`` members, non-string keys.

``Generator`` draws them from a ``random.Random`` (Hypothesis tests pass
``st.randoms()``); the crash test and the fuzz benchmark use seeded ones.
``check_call`` runs one public entry point and returns what is wrong with
its answer (None when nothing is); ``fuzz`` runs many, each under a time
limit, and tallies what went wrong.
"""

from __future__ import annotations

import enum
import faulthandler
import functools
import itertools
import logging
import math
import os
import random
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import flagkit

__all__ = [
    "ENTRY_POINTS",
    "Agreeable",
    "Generator",
    "Hostile",
    "Liar",
    "check_call",
    "clients_for",
    "flagd_document",
    "fuzz",
    "native_document",
    "torture",
    "unleash_document",
]


class Hostile(Exception):
    """What a hostile object raises."""


Behaviour = Literal["raise", "lie"]
SURROGATE = "x\ud800"

#: Methods no override of which makes sense to test (construction, pickling
#: hooks, finalisation): everything else a class has is overridden.
_KEEP = frozenset(
    {
        "__new__",
        "__init__",
        "__init_subclass__",
        "__subclasshook__",
        "__class_getitem__",
        "__del__",
        "__getnewargs__",
        "__getattribute__",  # see _BareHostile: a subclass overriding it cannot even be built
        "__setattr__",
        "__delattr__",
        "__dir__",
        "__sizeof__",
        "__reduce__",
        "__reduce_ex__",
        "__getstate__",
    }
)


def _raising(*_args: Any, **_kwargs: Any) -> Any:
    raise Hostile("a hostile object refused")


def _lie(name: str) -> Callable[..., Any]:
    """Return a plausible but wrong answer for method ``name``."""
    answers: dict[str, Any] = {
        "__eq__": True,
        "__ne__": False,
        "__lt__": True,
        "__le__": True,
        "__gt__": True,
        "__ge__": True,
        "__hash__": 0,
        "__len__": 0,
        "__bool__": True,
        "__contains__": True,
        "__index__": 0,
        "__int__": 0,
        "__float__": 0.0,
        "__round__": 0,
        "__trunc__": 0,
        "__floor__": 0,
        "__ceil__": 0,
        "__abs__": 0,
        "__str__": SURROGATE,
        "__repr__": "Liar()",
        "__format__": SURROGATE,
        "encode": SURROGATE,  # a str, not bytes: hashing it would crash a C hasher
        "isascii": True,
        "isdigit": True,
        "isdecimal": True,
        "is_integer": True,
        "startswith": True,
        "endswith": True,
        "find": 0,
        "index": 0,
        "count": 1,
        "get": SURROGATE,
        "keys": ("targetingKey",),
        "items": (("targetingKey", SURROGATE),),
        "values": (SURROGATE,),
        "copy": {"targetingKey": SURROGATE},
        "__getitem__": SURROGATE,
    }
    if name == "__iter__":
        return lambda *_a, **_k: itertools.repeat(SURROGATE)  # never ends
    answer = answers.get(name, SURROGATE)
    return lambda *_a, **_k: answer


@functools.cache
def _torture_class(base: type, behaviour: Behaviour) -> type:
    namespace: dict[str, Any] = {}
    for name in dir(base):
        if name in _KEEP or not callable(getattr(base, name, None)):
            continue
        namespace[name] = _raising if behaviour == "raise" else _lie(name)
    pose = {str: dict, dict: str, list: str, tuple: dict, int: str, float: list}[base]
    namespace["__class__"] = property(_raising if behaviour == "raise" else lambda _self: pose)
    return type(f"{behaviour.title()}{base.__name__.title()}", (base,), namespace)


def torture(base: type, behaviour: Behaviour, value: Any) -> Any:
    """Return ``value`` as an instance of ``base``'s torture subclass (raise or lie)."""
    cls = _torture_class(base, behaviour)
    if base in (list, dict):
        instance = cls()
        # The class overrides every mutator: fill it through the base's own.
        if base is list:
            list.extend(instance, value)
        else:
            dict.update(instance, value)
        return instance
    return cls(value)


class Liar(str):
    """A str subclass claiming to be ASCII, encodable, equal to anything: the classic."""

    __slots__ = ()

    def isascii(self) -> bool:
        return True

    def encode(self, *_args: Any, **_kwargs: Any) -> Any:  # type: ignore[override]
        return str.__str__(self)

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0


class Agreeable:
    """An object (of no built-in type) whose ``__eq__`` answers True to everything."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


class _BareHostile:
    """An object every operation on which raises, down to attribute access."""

    def __getattribute__(self, name: str) -> Any:
        raise Hostile(f"no attribute {name}")


for _name in (
    "__eq__",
    "__ne__",
    "__lt__",
    "__hash__",
    "__str__",
    "__repr__",
    "__format__",
    "__bool__",
    "__len__",
    "__iter__",
    "__getitem__",
    "__contains__",
    "__index__",
    "__int__",
    "__float__",
):
    setattr(_BareHostile, _name, _raising)


class PosingAsDict:
    """Not a mapping, but ``isinstance(obj, dict)`` says it is (``__class__``)."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # type: ignore[override]
        return dict


class RaisingMapping(Mapping[str, Any]):
    """A mapping whose one method ``broken`` raises (``get``, ``items``, ``__len__``...)."""

    def __init__(self, broken: str, data: Mapping[str, Any]) -> None:
        self._broken = broken
        self._data = dict(data)

    def _check(self, name: str) -> None:
        if name == self._broken:
            raise Hostile(f"{name} refused")

    def __getitem__(self, key: str) -> Any:
        self._check("__getitem__")
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        self._check("__iter__")
        return iter(self._data)

    def __len__(self) -> int:
        self._check("__len__")
        return len(self._data)

    def __bool__(self) -> bool:
        self._check("__bool__")
        return True

    def get(self, key: str, default: Any = None) -> Any:
        self._check("get")
        return self._data.get(key, default)

    def items(self) -> Any:
        self._check("items")
        return self._data.items()

    def keys(self) -> Any:
        self._check("keys")
        return self._data.keys()

    def __eq__(self, other: object) -> bool:
        self._check("__eq__")
        return other is self

    def __hash__(self) -> int:
        self._check("__hash__")
        return id(self)


class Tenant(enum.IntEnum):
    """An int-subclass targeting key (it used to hang rollouts)."""

    ACME = 7
    GLOBEX = 2**62


class Plan(enum.StrEnum):
    """A str-subclass attribute value, compared by value."""

    PRO = "pro"
    FREE = "free"


def _nested(depth: int, leaf: Any, *, mapping: bool) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"org": value, "id": "x"} if mapping else [value]
    return value


#: Deep values are built once: building 100,000 levels per case would dominate the run.
DEEP_LIST = _nested(100_000, "x", mapping=False)
DEEP_DICT = _nested(100_000, "x", mapping=True)
HUGE_TEXT = "user-" + "x" * 1_000_000
HUGE_INT = 10**5000

ATTRIBUTES = (
    "op",
    "targetingKey",
    "country",
    "plan",
    "email",
    "version",
    "age",
    "beta",
    "tags",
    "org",
    "when",
    "n",
)
#: Fields only Unleash documents read (its standard fields and ``properties``).
UNLEASH_FIELDS = ("userId", "sessionId", "remoteAddress", "currentTime", "properties")
TEXTS = (
    "user-1",
    "NL",
    "pro",
    "",
    SURROGATE,
    "\ud800",
    "1\u0662.0.0",
    "2.0.0",
    "a@x.io",
    "10.0.0.7",
    "2030-01-01T00:00:00Z",
)


class Generator:
    """Draw hostile keys, contexts, values and defaults from ``rng``."""

    def __init__(self, rng: random.Random, flag_keys: tuple[str, ...] = ()) -> None:
        self.rng = rng
        self.flag_keys = flag_keys or ("f",)

    def text(self) -> str:
        r = self.rng.random()
        if r < 0.05:
            return HUGE_TEXT
        if r < 0.5:
            return self.rng.choice(TEXTS)
        return "".join(chr(self.rng.choice((0x41, 0x7A, 0xE9, 0xD800, 0xDFFF, 0x1F600, 0x662))))

    def number(self) -> Any:
        return self.rng.choice(
            (0, 5, -1, 2**63, 2**64, -(2**63) - 1, HUGE_INT, 1.5, math.nan, math.inf, -0.0, 1e308)
        )

    def scalar(self) -> Any:
        choice = self.rng.randrange(12)
        if choice == 0:
            return self.text()
        if choice == 1:
            return self.number()
        if choice == 2:
            return self.rng.choice((None, True, False, b"user-1", Tenant.ACME, Plan.PRO))
        if choice == 3:
            return self.rng.choice(
                (Tenant.GLOBEX, Plan.FREE, _BareHostile(), PosingAsDict(), Agreeable())
            )
        if choice in (4, 5, 6):
            base = self.rng.choice((str, str, int, float))
            value: Any = self.text()
            if base is int:
                value = self.rng.choice((0, 5, 2**64, -(2**63) - 1, HUGE_INT))
            elif base is float:
                value = self.rng.choice((1.5, math.nan, math.inf, 1e308))
            return torture(base, self.rng.choice(("raise", "lie")), value)
        if choice == 7:
            return Liar(self.text())
        return self.rng.choice(TEXTS)

    def value(self, depth: int = 0) -> Any:
        choice = self.rng.randrange(10)
        if choice == 0 and depth < 3:
            items = [self.value(depth + 1) for _ in range(self.rng.randrange(4))]
            kind = self.rng.choice(("list", "tuple", "torture"))
            if kind == "list":
                return items
            if kind == "tuple":
                return tuple(items)
            return torture(list, self.rng.choice(("raise", "lie")), items)
        if choice == 1 and depth < 3:
            return self.context(depth + 1)
        if choice == 2:
            return self.rng.choice((DEEP_LIST, DEEP_DICT))
        return self.scalar()

    def attributes(self, depth: int = 0) -> dict[Any, Any]:
        fields = ATTRIBUTES + UNLEASH_FIELDS
        names = self.rng.sample(fields, self.rng.randrange(len(fields)))
        data: dict[Any, Any] = {name: self.value(depth) for name in names}
        if self.rng.random() < 0.1:
            data[self.rng.choice((1, None, (1, 2), Tenant.ACME))] = self.scalar()
        return data

    def context(self, depth: int = 0) -> Any:
        data = self.attributes(depth)
        choice = self.rng.randrange(12)
        if choice == 0:
            broken = ("get", "items", "keys", "__iter__", "__len__", "__getitem__", "__bool__")
            return RaisingMapping(self.rng.choice(broken), data)
        if choice == 1:
            return torture(dict, self.rng.choice(("raise", "lie")), data)
        if choice == 2:
            return self.rng.choice((1, "ctx", [("targetingKey", "u")], PosingAsDict()))
        if choice == 3:
            return flagkit.Context("user-1", **{k: v for k, v in data.items() if type(k) is str})
        return data

    def key(self) -> Any:
        choice = self.rng.randrange(10)
        if choice < 5:
            return self.rng.choice(self.flag_keys)
        if choice == 5:
            known = self.rng.choice(self.flag_keys)
            return torture(str, self.rng.choice(("raise", "lie")), known)
        if choice == 6:
            return Liar(self.rng.choice(self.flag_keys))
        if choice == 7:
            return self.rng.choice((None, 1, ["f"], 1.5, b"f", Plan.PRO))
        return self.text()

    def default(self, value_type: str) -> Any:
        if self.rng.random() < 0.7:
            return {"bool": False, "str": "d", "int": -7, "float": -7.5, "object": {"d": 1}}.get(
                value_type
            )
        return self.value()


# -- documents ---------------------------------------------------------------

_OPERATORS: tuple[tuple[str, Any], ...] = (
    ("equals", "NL"),
    ("equals", 5),
    ("not_equals", "pro"),
    ("in", ["NL", "BE", 1, True]),
    ("not_in", ["pro"]),
    ("contains", "x"),
    ("contains", ["beta", 2]),
    ("starts_with", "user-"),
    ("ends_with", "@x.io"),
    ("matches", "^user-[0-9]+$"),
    ("lt", 5),
    ("gte", 1.5),
    ("semver_gte", "2.0.0"),
    ("semver_eq", "12.0.0"),
    ("before", "2030-01-01T00:00:00Z"),
    ("after", 0),
    ("exists", None),
)


def native_document() -> dict[str, Any]:
    """Return a native document using every operator, rollouts by each attribute, segments."""
    on_off = {"on": True, "off": False}
    split = {"rollout": {"weights": {"on": 50, "off": 50}}}
    flags: dict[str, Any] = {
        "constant": {"variants": on_off, "default": "on"},
        "rollout": {"variants": on_off, "default": split, "track_exposure": True},
        "text": {"variants": {"a": "a", "b": "b"}, "default": "a"},
        "number": {"variants": {"one": 1, "two": 2}, "default": "one"},
        "ratio": {"variants": {"half": 0.5, "one": 1}, "default": "half"},
        "object": {"variants": {"a": {"list": [1, {"x": None}]}, "b": {}}, "default": "a"},
        "in-segment": {
            "variants": on_off,
            "default": "off",
            "rules": [{"when": [{"op": "in_segment", "value": "members"}], "serve": "on"}],
        },
        "gated": {
            "variants": on_off,
            "default": "on",
            "off_variant": "off",
            "prerequisites": [{"flag": "rollout", "variants": ["on"]}],
        },
        "ramp": {
            "variants": on_off,
            "default": {
                "rollout": {
                    "by": "org.id",
                    "weights": {"on": 10, "off": 90},
                    "schedule": [{"at": "2020-01-01T00:00:00Z", "weights": {"on": 60, "off": 40}}],
                }
            },
        },
    }
    for attribute in ATTRIBUTES:
        by = {"rollout": {"by": attribute, "weights": {"on": 30, "off": 70}}}
        flags[f"by-{attribute}"] = {"variants": on_off, "default": by, "track_exposure": True}
        for index, (op, operand) in enumerate(_OPERATORS):
            condition: dict[str, Any] = {"attribute": attribute, "op": op}
            if operand is not None:
                condition["values" if isinstance(operand, list) else "value"] = operand
            flags[f"{attribute}-{index}"] = {
                "variants": {"yes": "yes", "no": "no"},
                "default": "no",
                "rules": [{"when": [condition], "serve": "yes"}],
            }
    segments = {
        "members": {
            "include": ["user-1", "NL"],
            "exclude": ["user-2"],
            "rules": [{"when": [{"attribute": "email", "op": "ends_with", "value": "@x.io"}]}],
        }
    }
    return {"flags": flags, "segments": segments}


_LOGIC: dict[str, Any] = {
    "fractional": {"fractional": [["on", 50], ["off", 50]]},
    "fractional-by": {"fractional": [{"var": "email"}, ["on", 50], ["off", 50]]},
    "equals": {"if": [{"==": [{"var": "country"}, "NL"]}, "on", "off"]},
    "strict": {"if": [{"===": [{"var": "age"}, 5]}, "on", "off"]},
    "in-list": {"if": [{"in": [{"var": "country"}, ["NL", "BE"]]}, "on", "off"]},
    "in-var": {"if": [{"in": ["NL", {"var": "tags"}]}, "on", "off"]},
    "in-text": {"if": [{"in": ["N", {"var": "country"}]}, "on", "off"]},
    "semver": {"if": [{"sem_ver": [{"var": "version"}, ">=", "2.0.0"]}, "on", "off"]},
    "starts": {"if": [{"starts_with": [{"var": "email"}, "a"]}, "on", "off"]},
    "less": {"if": [{"<": [{"var": "age"}, 5]}, "on", "off"]},
    "arith": {"if": [{">": [{"+": [{"var": "n"}, {"*": [{"var": "age"}, 2]}]}, 3]}, "on", "off"]},
    "some": {"if": [{"some": [{"var": "tags"}, {"==": [{"var": ""}, "beta"]}]}, "on", "off"]},
    "cat": {"if": [{"==": [{"cat": [{"var": "email"}, {"var": "n"}]}, "x"]}, "on", "off"]},
    "substr": {"if": [{"==": [{"substr": [{"var": "email"}, {"var": "n"}]}, "x"]}, "on", "off"]},
    "nested": {"if": [{"==": [{"var": "org.id"}, "x"]}, "on", "off"]},
    "whole": {"if": [{"missing": ["email", "org.id"]}, "on", "off"]},
    "reduce": {
        "if": [{"reduce": [{"var": "tags"}, {"+": [1, {"var": "accumulator"}]}, 0]}, "on", "off"]
    },
    "variant-from-context": {"var": "plan"},
    "not-equals": {"if": [{"!=": [{"var": "country"}, "NL"]}, "on", "off"]},
    "not-strict": {"if": [{"!==": [{"var": "age"}, 5]}, "on", "off"]},
    "between": {"if": [{"<=": [1, {"var": "age"}, 9]}, "on", "off"]},
    "greater": {"if": [{">": [{"var": "version"}, {"var": "country"}]}, "on", "off"]},
    "in-numbers": {"if": [{"in": [{"var": "age"}, [5, 6, [1, 3]]]}, "on", "off"]},
    "in-tags": {"if": [{"in": [{"var": "country"}, {"var": "tags"}]}, "on", "off"]},
    "contains": {"if": [{"contains_any": [{"var": "tags"}, ["beta", 5]]}, "on", "off"]},
    "merge": {"if": [{"in": ["NL", {"merge": [{"var": "tags"}, "x"]}]}, "on", "off"]},
    "ends": {"if": [{"ends_with": [{"var": "email"}, ".io"]}, "on", "off"]},
    "semver-op": {"if": [{"sem_ver": [{"var": "version"}, {"var": "op"}, "2.0.0"]}, "on", "off"]},
    "semver-caret": {"if": [{"sem_ver": [{"var": "version"}, "^", "2.0.0"]}, "on", "off"]},
    "not": {"if": [{"!": {"var": "beta"}}, "on", "off"]},
    "max": {"if": [{"==": [{"max": [{"var": "age"}, {"var": "n"}]}, 5]}, "on", "off"]},
    "mod": {"if": [{"==": [{"%": [{"var": "age"}, 2]}, 1]}, "on", "off"]},
    "map": {"if": [{"in": ["beta", {"map": [{"var": "tags"}, {"var": ""}]}]}, "on", "off"]},
    "filter": {"if": [{"filter": [{"var": "tags"}, {"==": [{"var": ""}, "NL"]}]}, "on", "off"]},
    "all": {"if": [{"all": [{"var": "tags"}, {"!=": [{"var": ""}, "x"]}]}, "on", "off"]},
    "set": {"if": [{"set": [{"var": "org"}, "plan", "on"]}, "on", "off"]},
    "fractional-v3-value": {"fractional": [{"var": "tags"}, ["on", 50], ["off", 50]]},
    "fractional-number": {"fractional": [{"var": "age"}, ["on", 50], ["off", 50]]},
}


def flagd_document() -> dict[str, Any]:
    """Return a flagd document: every operator on context data, and a surrogate flag key."""
    flags: dict[str, Any] = {
        key: {
            "state": "ENABLED",
            "variants": {"on": True, "off": False, "pro": True},
            "defaultVariant": "off",
            "targeting": targeting,
        }
        for key, targeting in _LOGIC.items()
    }
    flags["k\ud800"] = {
        "state": "ENABLED",
        "variants": {"on": True, "off": False},
        "defaultVariant": "off",
        "targeting": {"fractional": [["on", 50], ["off", 50]]},
    }
    flags["text"] = {"state": "ENABLED", "variants": {"a": "a", "b": "b"}, "defaultVariant": "a"}
    return {"flags": flags}


_UNLEASH_CONSTRAINTS: tuple[tuple[str, str, list[str]], ...] = (
    ("country", "IN", ["NL", "BE"]),
    ("plan", "NOT_IN", ["free"]),
    ("email", "STR_CONTAINS", ["@x"]),
    ("email", "STR_STARTS_WITH", ["user-"]),
    ("email", "STR_ENDS_WITH", ["X.IO"]),
    ("age", "NUM_EQ", ["5"]),
    ("age", "NUM_GT", ["1.5"]),
    ("n", "NUM_LTE", ["3"]),
    ("when", "DATE_AFTER", ["2020-01-01T00:00:00.000Z"]),
    ("currentTime", "DATE_BEFORE", ["2030-01-01T00:00:00.000Z"]),
    ("version", "SEMVER_EQ", ["2.0.0"]),
    ("version", "SEMVER_GT", ["1.0.0"]),
    ("version", "SEMVER_LT", ["12.0.0"]),
    ("userId", "REGEX", ["^user-[0-9]+$"]),
    ("remoteAddress", "IN_CIDR", ["10.0.0.0/8", "::1"]),
)


def unleash_document() -> dict[str, Any]:
    """Return an Unleash document: every strategy, stickiness and constraint operator."""

    def rollout(stickiness: str, **extra: Any) -> dict[str, Any]:
        parameters = {"rollout": "50", "stickiness": stickiness, "groupId": "g"}
        return {"name": "flexibleRollout", "parameters": parameters, **extra}

    features: list[dict[str, Any]] = [
        {"name": f"rollout-{s}", "enabled": True, "strategies": [rollout(s)]}
        for s in ("default", "userId", "sessionId", "random", "country")
    ]
    features += [
        {"name": "classic", "enabled": True, "strategies": strategies}
        for strategies in (
            [{"name": "userWithId", "parameters": {"userIds": "user-1, NL"}}],
            [{"name": "gradualRolloutUserId", "parameters": {"percentage": "50", "groupId": "g"}}],
            [{"name": "gradualRolloutSessionId", "parameters": {"percentage": "50"}}],
            [{"name": "gradualRolloutRandom", "parameters": {"percentage": "50"}}],
            [{"name": "remoteAddress", "parameters": {"IPs": "10.0.0.7, 192.168.0.0/16"}}],
        )
    ]
    for index, feature in enumerate(features[5:]):
        feature["name"] = f"classic-{index}"
    for index, (field, operator, values) in enumerate(_UNLEASH_CONSTRAINTS):
        for inverted in (False, True):
            single = operator.startswith(("NUM_", "DATE_", "SEMVER_", "REGEX"))
            constraint = {
                "contextName": field,
                "operator": operator,
                **({"value": values[0]} if single else {"values": values}),
                "inverted": inverted,
                "caseInsensitive": index % 2 == 0,
            }
            features.append(
                {
                    "name": f"{operator.lower()}-{index}-{inverted}",
                    "enabled": True,
                    "strategies": [{"name": "default", "constraints": [constraint]}],
                }
            )
    variants = [
        {
            "name": "a",
            "weight": 500,
            "stickiness": "country",
            "payload": {"type": "json", "value": '{"price": 7}'},
            "overrides": [{"contextName": "userId", "values": ["user-1"]}],
        },
        {"name": "b", "weight": 500, "stickiness": "country"},
    ]
    features += [
        {
            "name": "variants",
            "enabled": True,
            "strategies": [rollout("default")],
            "variants": variants,
        },
        {
            "name": "strategy-variants",
            "enabled": True,
            "strategies": [rollout("userId", variants=variants)],
        },
        {
            "name": "child",
            "enabled": True,
            "strategies": [{"name": "default"}],
            "dependencies": [{"feature": "variants", "variants": ["a"]}],
        },
    ]
    return {"version": 2, "features": features}


# -- entry points --------------------------------------------------------------

ValueType = Literal["bool", "str", "int", "float", "object"]
#: The type each typed getter promises (None: any flag type).
_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "str": (str,),
    "int": (int,),
    "float": (float,),
    "object": (dict,),
}


def _getter(value_type: ValueType) -> Callable[..., Any]:
    def call(client: flagkit.Client, key: Any, default: Any, context: Any) -> Any:
        return getattr(client, f"get_{value_type}")(key, default, context)

    return call


def _details(value_type: ValueType | None) -> Callable[..., Any]:
    name = "get_details" if value_type is None else f"get_{value_type}_details"

    def call(client: flagkit.Client, key: Any, default: Any, context: Any) -> Any:
        return getattr(client, name)(key, default, context)

    return call


def _scoped(value_type: ValueType) -> Callable[..., Any]:
    def call(client: flagkit.Client, key: Any, default: Any, context: Any) -> Any:
        with flagkit.scoped_context(context):
            return getattr(client, f"get_{value_type}")(key, default)

    return call


def _set_context(client: flagkit.Client, key: Any, default: Any, context: Any) -> Any:
    token = flagkit.set_context(context)
    try:
        return client.get_details(key, default)
    finally:
        flagkit.reset_context(token)


def _variant_of(client: flagkit.Client, key: Any, _default: Any, context: Any) -> Any:
    return client.variant_of(key, context)


def _get_variant(client: flagkit.Client, key: Any, _default: Any, context: Any) -> Any:
    return client.get_variant(key, context)


def _all_flags(client: flagkit.Client, _key: Any, _default: Any, context: Any) -> Any:
    return client.all_flags(context)


def _feature(client: flagkit.Client, key: Any, _default: Any, context: Any) -> Any:
    @client.feature(key, fallback=lambda: "fallback", context=lambda: context)
    def new() -> str:
        return "new"

    return new()


def _dispatch(client: flagkit.Client, key: Any, _default: Any, context: Any) -> Any:
    chosen = client.dispatch(
        key, {"on": lambda: "on", "a": lambda: "a"}, fallback=lambda: "fallback"
    )
    with flagkit.scoped_context(context):
        return chosen()


def _toggle(client: flagkit.Client, key: Any, default: Any, context: Any) -> Any:
    with client.toggle(key, default, context) as served:
        return served


def _track(client: flagkit.Client, key: Any, default: Any, context: Any) -> Any:
    return client.track(key, context, default, basket=key)


def _record(client: flagkit.Client, key: Any, default: Any, context: Any) -> Any:
    client.record_error(key, context)
    return client.record_value(key, key, default, context)


_providers: weakref.WeakKeyDictionary[flagkit.Client, Any] = weakref.WeakKeyDictionary()


def _provider(method: str) -> Callable[..., Any]:
    def call(client: flagkit.Client, key: Any, default: Any, context: Any) -> Any:
        from openfeature.evaluation_context import EvaluationContext

        from flagkit.openfeature import FlagkitProvider

        provider = _providers.get(client)
        if provider is None:
            provider = _providers[client] = FlagkitProvider(client)
        evaluation_context = EvaluationContext(
            targeting_key=context.get("targetingKey") if type(context) is dict else None,
            attributes=context,
        )
        if method == "track":
            from openfeature.track import TrackingEventDetails

            details = TrackingEventDetails(value=default, attributes={"basket": key})
            return provider.track(key, evaluation_context, details)
        return getattr(provider, method)(key, default, evaluation_context)

    return call


#: name -> (call(client, key, default, context), value type the default is drawn for)
ENTRY_POINTS: dict[str, tuple[Callable[..., Any], ValueType | None]] = {
    **{f"get_{t}": (_getter(t), t) for t in ("bool", "str", "int", "float", "object")},
    **{f"get_{t}_details": (_details(t), t) for t in ("bool", "str", "int", "float", "object")},
    "get_details": (_details(None), None),
    "scoped get_bool": (_scoped("bool"), "bool"),
    "scoped get_object": (_scoped("object"), "object"),
    "set_context get_details": (_set_context, None),
    "variant_of": (_variant_of, None),
    "get_variant": (_get_variant, None),
    "all_flags": (_all_flags, None),
    "feature": (_feature, None),
    "dispatch": (_dispatch, None),
    "toggle": (_toggle, None),
    "track": (_track, "float"),
    "record_error record_value": (_record, "float"),
    "provider boolean": (_provider("resolve_boolean_details"), "bool"),
    "provider string": (_provider("resolve_string_details"), "str"),
    "provider integer": (_provider("resolve_integer_details"), "int"),
    "provider float": (_provider("resolve_float_details"), "float"),
    "provider object": (_provider("resolve_object_details"), "object"),
    "provider track": (_provider("track"), "float"),
}


def _details_problem(details: Any, default: Any, value_type: ValueType | None) -> str | None:
    if not isinstance(details, flagkit.Details):
        return f"not Details: {type(details).__name__}"
    if type(details.flag_key) is not str:
        return f"flag_key is a {type(details.flag_key).__name__}"
    if details.reason == flagkit.Reason.ERROR:
        if details.error_code is None or details.value is not default:
            return "an ERROR without an error code, or not serving the default"
        return None
    if details.error_code is not None:
        return f"error code {details.error_code} with reason {details.reason}"
    if (
        value_type is not None
        and details.value is not default
        and not _fits(details.value, value_type)
    ):
        return f"a {type(details.value).__name__} for a {value_type} getter"
    return None


def _fits(value: Any, value_type: ValueType) -> bool:
    """Return True when a served value has exactly the type its getter promises."""
    return type(value) is _TYPES[value_type][0]


def check_call(
    name: str, client: flagkit.Client, key: Any, default: Any, context: Any
) -> str | None:
    """Call entry point ``name``; return what is wrong with its answer, or None.

    An exception is wrong; so is an answer of the wrong type, an error that
    does not serve the caller's default, or a Details without a string key.
    """
    call, value_type = ENTRY_POINTS[name]
    try:
        result = call(client, key, default, context)
    except Exception as exc:  # the point of the check
        return f"{name} raised {type(exc).__name__}"
    if name == "get_variant":
        if not isinstance(result, flagkit.Variant) or type(result.name) is not str:
            return "get_variant did not answer a Variant named by a str"
        return None
    if name.endswith("details") or name.startswith("set_context"):
        return _details_problem(result, default, value_type)
    if name.startswith(("get_", "scoped")):
        if result is default or (value_type is not None and _fits(result, value_type)):
            return None
        return f"{name} returned a {type(result).__name__}"
    if name == "variant_of":
        return None if result is None or type(result) is str else "variant is not a str"
    if name == "all_flags":
        if type(result) is not dict or any(type(k) is not str for k in result):
            return "all_flags is not a dict of str keys"
        for details in result.values():
            problem = _details_problem(details, None, None)
            if problem is not None:
                return f"all_flags: {problem}"
        return None
    if name in ("feature", "dispatch"):
        return None if result in ("new", "fallback", "on", "a") else f"{name} returned {result!r}"
    if name == "toggle":
        if result.variant is None or type(result.variant) is str:
            return None
        return "toggle served a variant that is not a str"
    if name.endswith(("track", "record_value")):
        return None if result is None else f"{name} returned {result!r}"
    # The OpenFeature provider: a resolution, the default on error.
    if result.error_code is not None and result.value is not default:
        return "provider error without the default"
    return None


# -- the fuzz loop (the crash test and benchmarks/fuzz.py run it in subprocesses) --


class _Recorder(flagkit.Hook):
    """A hook that looks at everything it is shown, as real observability code does."""

    def before(self, hook_context: flagkit.HookContext, hints: Mapping[str, Any]) -> Any:
        return {"hooked": len(hook_context.flag_key)}

    def after(self, hook_context: flagkit.HookContext, details: Any, hints: Any) -> None:
        details.to_dict()


def clients_for(document: Mapping[str, Any], format: str = "native") -> list[flagkit.Client]:
    """Return clients over ``document`` on the fast path and on every observed one."""

    def build(**options: Any) -> flagkit.Client:
        return flagkit.Client.from_dict(document, format=format, counters=True, **options)

    overridden = build()
    first = overridden.flag_keys()[0]
    # Entered and never left: the overrides stay active for the client's life.
    overridden.override({first: "nonsense", "missing": "on"}).__enter__()
    assert overridden._observed
    # flagd's second hashing (fractional v3: CBOR) on one of the observed clients.
    hashing = {"flagd_hashing": "v3"} if format == "flagd" else {}
    return [
        build(),
        build(hooks=[_Recorder()], exposures=lambda events: None, outcomes=True),
        build(context={"targetingKey": "client", "country": torture(str, "lie", "NL")}, **hashing),
        overridden,
    ]


class _FormatOnly(logging.Handler):
    """Format every flagkit log record (as a real handler would) and keep nothing.

    A record that cannot be formatted (a hostile object in its arguments)
    is counted as a problem instead of printed.
    """

    def __init__(self, tally: Counter[str]) -> None:
        super().__init__()
        self.tally = tally

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.format(record)
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        self.tally["a log record could not be formatted"] += 1


#: The exit status of a fuzzing process whose call ran past its time limit.
HANG_EXIT = 3


class Watchdog:
    """End the process, with every thread's traceback, when one call runs too long.

    ``faulthandler.dump_traceback_later`` per call would cost more than the
    call (cancelling it wakes its thread): the fuzz loop only stamps when a
    call starts, and this thread looks every quarter of the limit.
    """

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.started: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="fuzz-watchdog", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.limit / 4):
            started = self.started
            if started is not None and time.monotonic() - started > self.limit:
                sys.stderr.write(f"a call ran past {self.limit} s: hung\n")
                faulthandler.dump_traceback(all_threads=True)
                os._exit(HANG_EXIT)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def fuzz(
    clients: list[flagkit.Client],
    rng: random.Random,
    calls: int,
    *,
    time_limit: float,
) -> Counter[str]:
    """Make ``calls`` hostile calls; return the tally of what went wrong, plus timings.

    A ``Watchdog`` ends the process (exit status ``HANG_EXIT``, with every
    thread's traceback) when one call runs past ``time_limit`` seconds.
    flagkit's log records are formatted and discarded. The tally has
    ``calls``, the slowest call in microseconds (``slowest_us``), and one
    entry per problem found.
    """
    names = list(ENTRY_POINTS)
    keys = tuple({key for client in clients for key in client.flag_keys()})
    generator = Generator(rng, keys)
    tally: Counter[str] = Counter()
    slowest = 0
    logger = logging.getLogger("flagkit")
    handler = _FormatOnly(tally)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    watchdog = Watchdog(time_limit)
    try:
        for _ in range(calls):
            client = rng.choice(clients)
            name = rng.choice(names)
            default = generator.default(ENTRY_POINTS[name][1] or "bool")
            key, context = generator.key(), generator.context()
            watchdog.started = time.monotonic()
            started = time.perf_counter_ns()
            problem = check_call(name, client, key, default, context)
            slowest = max(slowest, time.perf_counter_ns() - started)
            watchdog.started = None
            tally["calls"] += 1
            if problem is not None:
                tally[problem] += 1
    finally:
        watchdog.stop()
        logger.removeHandler(handler)
        logger.propagate = propagate
    tally["slowest_us"] = slowest // 1000
    return tally
