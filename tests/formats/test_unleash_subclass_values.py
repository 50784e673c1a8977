"""Unleash features read subclasses in the context by value, and hash only exact strings.

Unleash reads every context value as text (``str(value)``, as its SDK
does); flagkit reads a subclass of a built-in by the value it is made of
(``flagkit._core.values.plain``) before that, so a class that lies in its
``__str__``, ``__eq__`` or ``encode`` answers exactly as its plain value,
and murmur3 only ever sees bytes flagkit encoded from an exact string.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import flagkit
from flagkit.formats.unleash._context import text_of
from tests.hostile import ATTRIBUTES, UNLEASH_FIELDS, Liar, Tenant, torture, unleash_document

CLIENT = flagkit.Client.from_dict(unleash_document(), format="unleash")
#: Features whose answer is a random draw for some contexts (random stickiness).
RANDOM = {"rollout-random", "classic-3"}
BASE = {"targetingKey": "user-7", "sessionId": "s-1", "country": "DE"}

VALUES: list[tuple[type, Any]] = [
    (str, "user-1"),
    (str, "NL"),
    (str, "user-1@x.io"),
    (str, "2.0.0"),
    (str, "10.0.0.7"),
    (str, "2025-01-01T00:00:00Z"),
    (str, "x\ud800"),
    (int, 5),
    (int, 2**64),
    (float, 1.5),
    (float, math.nan),
]


def answers(context: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """Return every deterministic feature's (value, variant, reason, error code)."""
    return {
        key: (d.value, d.variant, d.reason, d.error_code)
        for key, d in CLIENT.all_flags(context).items()
        if key not in RANDOM
    }


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
@pytest.mark.parametrize(("base", "value"), VALUES, ids=repr)
def test_a_torture_subclass_answers_as_its_value(base: type, value: Any, behaviour: Any) -> None:
    """Every strategy, stickiness and constraint operator sees only the value."""
    for field in (*ATTRIBUTES, *UNLEASH_FIELDS[:-1]):
        expected = answers({**BASE, field: value})
        actual = answers({**BASE, field: torture(base, behaviour, value)})
        assert repr(expected) == repr(actual), field


def test_a_liar_user_id_is_hashed_as_its_characters() -> None:
    """Rollouts and variants hash the key's own UTF-8 bytes, never what its methods claim."""
    for text in ("user-1", "x\ud800", "é"):
        assert answers({**BASE, "userId": text}) == answers({**BASE, "userId": Liar(text)})
        assert CLIENT.get_variant("variants", {**BASE, "userId": text}) == CLIENT.get_variant(
            "variants", {**BASE, "userId": Liar(text)}
        )


def test_text_of_is_always_an_exact_string() -> None:
    """Whatever a value's __str__ or isoformat return, the text is an exact str (or None)."""

    class Sneaky:
        def __str__(self) -> str:
            return Liar("sneaky")

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    texts = [text_of(v) for v in (Sneaky(), Liar("x"), Tenant.ACME, torture(int, "lie", 5))]
    assert ["sneaky", "x", "7", "5"] == texts
    assert all(type(text) is str for text in texts)
    assert text_of(Broken()) is None
