"""The bucketing formula, pinned by test vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flagkit
from flagkit import Reason, bucket_of
from flagkit._core.bucketing import (
    bucket_or_none,
    bucketing_key,
    hash_bound,
    hash_of,
    string_key,
)
from flagkit._core.codegen import render_both
from flagkit._core.plan import Plan, Split
from flagkit._core.snapshot import Resolution
from tests.helpers import examples
from tests.hostile import Liar, Tenant, torture
from tests.murmur3_reference import murmur3_32

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "bucketing_vectors.json").read_text("utf-8")
)["vectors"]


def test_vector_file_covers_the_hard_cases() -> None:
    """The vectors include empty, non-ASCII and long values, and at least 50 cases."""
    values = [v["value"] for v in VECTORS]
    assert len(VECTORS) >= 50
    assert "" in values
    assert any(not v.isascii() for v in values)
    assert any(len(v) >= 1000 for v in values)
    assert {v["total"] for v in VECTORS} >= {10000, 100, 1}


@pytest.mark.parametrize(
    "vector", VECTORS, ids=lambda v: f"{v['salt'][:12]}|{v['value'][:12]}|{v['total']}"
)
def test_vectors_match_flagkit(vector: dict[str, object]) -> None:
    """flagkit's hash and bucket equal the pinned ones."""
    salt, value, total = str(vector["salt"]), str(vector["value"]), int(str(vector["total"]))
    assert vector["hash"] == hash_of(salt, value)
    assert vector["bucket"] == bucket_of(salt, value, total)


@pytest.mark.parametrize("vector", VECTORS[:20])
def test_vectors_match_an_independent_murmur3(vector: dict[str, object]) -> None:
    """An independent MurmurHash3 implementation agrees with the vectors."""
    data = (str(vector["salt"]) + str(vector["value"])).encode("utf-8")
    assert vector["hash"] == murmur3_32(data)


def test_bucket_is_in_range_and_uses_integer_scaling() -> None:
    """Buckets are (hash * total) >> 32, so always in range(total)."""
    for i in range(2000):
        bucket = bucket_of("salt", f"user-{i}", 10000)
        assert 0 <= bucket < 10000
        assert (hash_of("salt", f"user-{i}") * 10000) >> 32 == bucket


@settings(max_examples=examples(500), deadline=None)
@given(st.integers(1, 2**32), st.data())
def test_a_hash_bound_splits_hashes_exactly_where_buckets_split(total: int, data: Any) -> None:
    """``hash < hash_bound(b, total)`` exactly when the hash's bucket is below ``b``, edges too."""
    bound = data.draw(st.integers(0, total), label="bound")
    edge = hash_bound(bound, total)
    drawn = data.draw(st.integers(0, 2**32 - 1), label="hash")
    for hashed in (h for h in {0, edge - 1, edge, drawn, 2**32 - 1} if 0 <= h < 2**32):
        assert ((hashed * total) >> 32 < bound) == (hashed < edge), hashed


def _edge_rollout(salt: str, total: int, cut: int) -> tuple[Split, Resolution, Resolution]:
    low, high = (Resolution("f", value=v, variant=v, reason=Reason.SPLIT) for v in ("lo", "hi"))
    split = Split(
        salt=salt,
        attribute="targetingKey",
        getter=None,
        key_of=bucketing_key,
        weights=((low, cut), (high, total - cut)),
        total=total,
        missing=Resolution("f", reason=Reason.ERROR, has_value=False).outcome,
    )
    return split, low, high


@pytest.mark.parametrize(
    "vector",
    [v for v in VECTORS if v["value"]],  # the empty value has no bucket (its own test below)
    ids=lambda v: f"{v['salt'][:12]}|{v['value'][:12]}|{v['total']}",
)
def test_generated_rollouts_cut_at_each_vector_bucket(vector: dict[str, Any]) -> None:
    """A rollout whose first range ends at a vector's bucket serves the second; one more, the first.

    Both generated functions: ``evaluate`` (bucket reported) and ``evaluate_fast``
    (the hash against ``hash_bound``), at the very edge of the range.
    """
    salt, value, total, bucket = vector["salt"], vector["value"], vector["total"], vector["bucket"]
    for cut, wanted in ((bucket, 1), (bucket + 1, 0)):
        split, *served = _edge_rollout(salt, total, cut)
        evaluate, fast = render_both(Plan("f", default=split))
        context = {"targetingKey": value}
        assert (served[wanted], bucket) == evaluate(context)
        assert served[wanted].outcome is fast(context)


def test_unencodable_text_raises_value_error() -> None:
    """bucket_of refuses a lone surrogate with ValueError instead of crashing."""
    with pytest.raises(ValueError, match="UTF-8"):
        bucket_of("salt", "\ud800")


@pytest.mark.parametrize("behaviour", ["raise", "lie"])
def test_subclasses_are_hashed_by_their_own_characters(behaviour: Any) -> None:
    """A str subclass (any of whose methods raise or lie) is hashed as its characters."""
    salt, value = torture(str, behaviour, "salt"), torture(str, behaviour, "user-1")
    assert bucket_of("salt", "user-1") == bucket_of(salt, value)
    assert bucket_of("salt", "user-1", 7) == bucket_of(salt, value, torture(int, behaviour, 7))
    assert hash_of("salt", "user-1") == hash_of(Liar("salt"), Liar("user-1"))


def test_a_liar_claiming_ascii_cannot_smuggle_a_surrogate_to_mmh3() -> None:
    """``isascii`` and ``encode`` lying about a lone surrogate: ValueError, never a crash."""
    for value in (Liar("x\ud800"), torture(str, "lie", "x\ud800")):
        with pytest.raises(ValueError, match="UTF-8"):
            bucket_of("salt", value)
    assert bucket_or_none("salt", Liar("x\ud800"), 100) is None
    assert bucket_or_none("salt\udfff", "x", 100) is None


@pytest.mark.parametrize(
    ("salt", "value", "total", "error"),
    [
        (None, "x", 100, TypeError),
        ("s", 5, 100, TypeError),
        ("s", b"x", 100, TypeError),
        ("s", "x", 1.5, TypeError),
        ("s", "x", True, TypeError),
        ("s", "x", 0, ValueError),
        ("s", "x", -5, ValueError),
        ("s", "x", 2**32 + 1, ValueError),
    ],
)
def test_bucket_of_refuses_what_has_no_bucket(
    salt: Any, value: Any, total: Any, error: type[Exception]
) -> None:
    """Non-strings and bucket spaces outside 1..2**32 are a TypeError or ValueError."""
    with pytest.raises(error):
        bucket_of(salt, value, total)


def test_bucket_space_bounds_are_inclusive() -> None:
    """A total of 1 puts everyone in bucket 0; 2**32 makes the bucket the hash itself."""
    assert 0 == bucket_of("s", "x", 1)
    assert hash_of("s", "x") == bucket_of("s", "x", 2**32)


def test_a_split_salt_is_an_exact_string() -> None:
    """A rollout's salt is stored as an exact str: generated code never runs a subclass's +."""
    split = Split(
        salt=Liar("salt"),
        attribute="targetingKey",
        getter=None,
        key_of=bucketing_key,
        weights=(),
        total=100,
        missing=Resolution("f", reason=Reason.ERROR, has_value=False).outcome,
    )
    assert (str, "salt") == (type(split.salt), split.salt)
    with pytest.raises(ValueError, match="bucket space"):
        Split("s", "targetingKey", None, bucketing_key, (), 0, split.missing)


@pytest.mark.parametrize(
    "key", [Tenant.ACME, Tenant.GLOBEX, torture(int, "lie", 7)], ids=["acme", "globex", "liar"]
)
def test_int_subclass_keys_bucket_as_their_decimal_value(key: int) -> None:
    """An IntEnum (or any int subclass) buckets as ``str(int(key))``, read by value."""
    assert str(int.__index__(key)) == bucketing_key(key)


def test_int_subclass_outside_64_bits_has_no_key() -> None:
    """The 64-bit bound is checked by comparison, for subclasses too."""
    assert [None, None, "18446744073709551615"] == [
        bucketing_key(torture(int, "raise", 2**64)),
        bucketing_key(torture(int, "lie", -(2**63) - 1)),
        bucketing_key(torture(int, "lie", 2**64 - 1)),
    ]


def test_an_empty_key_counts_as_missing() -> None:
    """An empty string has no bucketing key (flagd treats an empty targeting key as missing)."""
    assert (None, None, "a") == (bucketing_key(""), string_key(""), string_key("a"))
    client = flagkit.Client.from_dict(
        {
            "flags": {
                "r": {
                    "variants": {"on": True, "off": False},
                    "default": {"rollout": {"weights": {"on": 50, "off": 50}}},
                }
            }
        }
    )
    details = client.get_bool_details("r", True, {"targetingKey": ""})
    assert (True, flagkit.ErrorCode.TARGETING_KEY_MISSING) == (details.value, details.error_code)
