"""The bucketing formula, pinned by test vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flagkit
from flagkit import bucket_of
from flagkit._core.bucketing import bucketing_key, hash_of, string_key
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


def test_unencodable_text_raises_value_error() -> None:
    """bucket_of refuses a lone surrogate with ValueError instead of crashing."""
    with pytest.raises(ValueError, match="UTF-8"):
        bucket_of("salt", "\ud800")


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
