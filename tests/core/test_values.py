"""Context values read as the plain built-ins they are made of, whatever their class does."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest

from flagkit._core.values import plain
from tests.hostile import Liar, Plan, Tenant, torture

TORTURED = [
    (str, "user-1"),
    (str, "x\ud800"),
    (int, 7),
    (int, 2**70),
    (float, 1.5),
    (list, ["a", 1]),
    (dict, {"id": "acme"}),
]


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
@pytest.mark.parametrize(("base", "value"), TORTURED, ids=lambda x: getattr(x, "__name__", ""))
def test_torture_subclasses_become_their_exact_value(
    base: type, value: Any, behaviour: Any
) -> None:
    """Every overridden method (``__eq__``, ``__iter__``, ``__class__``...) is bypassed."""
    hostile = torture(base, behaviour, value)
    result = plain(hostile)
    assert (base, value) == (type(result), result)


def test_tuple_subclass_with_endless_iteration_is_read_by_its_contents() -> None:
    """A tuple subclass whose ``__iter__`` never ends becomes its real, finite contents."""

    class Endless(tuple[Any, ...]):
        def __iter__(self) -> Any:
            while True:
                yield "again"

    assert ("a", "b") == plain(Endless(("a", "b")))


def test_enums_and_liars_are_read_by_value() -> None:
    """StrEnum and IntEnum members are their values; a Liar is its characters."""
    assert ["pro", 7, "user-1"] == [plain(Plan.PRO), plain(Tenant.ACME), plain(Liar("user-1"))]
    assert [str, int, str] == [type(plain(v)) for v in (Plan.PRO, Tenant.ACME, Liar("x"))]


@pytest.mark.parametrize(
    "value",
    [None, True, 0, -1.5, "x", [1], (1,), {"a": 1}, dt.date(2020, 1, 1), object()],
    ids=repr,
)
def test_exact_values_and_other_objects_come_back_unchanged(value: Any) -> None:
    """Exact built-ins (and objects of unrelated classes) are returned as they are."""
    assert value is plain(value)


def test_nan_stays_nan() -> None:
    """A float subclass holding NaN becomes the float NaN."""
    result = plain(torture(float, "lie", math.nan))
    assert type(result) is float
    assert math.isnan(result)
