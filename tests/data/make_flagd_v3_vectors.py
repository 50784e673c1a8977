"""Compute fractional v3 vectors with the real ``openfeature-flagd-core`` 2.0 (run it there).

Usage, with the Python that has ``openfeature-provider-flagd>=0.6``:
``python make_flagd_v3_vectors.py > flagd_v3_vectors.json``.
``tests/formats/test_flagd_v3_vectors.py`` runs this script in the second
environment and requires its output to equal the committed file, then checks
flagkit against every vector. Each vector gives the bucketing input, its
canonical CBOR (hex), the murmur3 hash of those bytes and the variant the
core's ``fractional`` picks.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import cbor2
import mmh3
from openfeature.contrib.tools.flagd.core.targeting.custom_ops import (
    fractional,
    normalize_numbers,
)

BUCKETS: list[list[Any]] = [["red", 10], ["green", 30], ["blue", 60]]
SHORTHAND = [
    ("checkout", "user-1"),
    ("checkout", "user-2"),
    ("checkout", "a@example.com"),
    ("new-search", "5c3d8535-f81a-4478-a6d3-afaa4d51199e"),
    ("ключ", "用户-7"),
    ("k", "x" * 300),
    ("", "u"),
]
VALUES: list[Any] = [
    "user-1",
    "",
    "héllo wörld",
    "😀",
    0,
    1,
    23,
    24,
    255,
    256,
    65536,
    2**32,
    2**63,
    2**64 - 1,
    2**64,
    -1,
    -25,
    -(2**64),
    1.5,
    0.1,
    2.0,
    -0.0,
    1e300,
    65504.5,
    True,
    False,
    {"b": 1, "a": [1.5], "aa": {"x": None}},
    {"list": ["a", 1, 2.5, None, True, -(2**70)], "": False},
]


def _vector(data: dict[str, Any], args: list[Any], hashed: Any) -> dict[str, Any]:
    encoded = cbor2.dumps(normalize_numbers(hashed), canonical=True)
    return {
        "flagKey": data["$flagd"]["flagKey"],
        "targetingKey": data.get("targetingKey"),
        "arguments": args,
        "cbor": encoded.hex(),
        "hash": mmh3.hash(encoded, signed=False),
        "variant": fractional(data, *args),
    }


def main() -> None:
    """Print the vectors as JSON."""
    vectors = []
    for flag_key, targeting_key in SHORTHAND:
        data = {"$flagd": {"flagKey": flag_key}, "targetingKey": targeting_key}
        vectors.append(_vector(data, BUCKETS, [flag_key, targeting_key]))
    for value in VALUES:
        data = {"$flagd": {"flagKey": "by-value"}, "targetingKey": "ignored"}
        vectors.append(_vector(data, [value, *BUCKETS], value))
    document = {
        "description": (
            "fractional v3 (openfeature-flagd-core 2.0): murmur3_x86_32(canonical CBOR of "
            "[flagKey, targetingKey] or of the bucketing value), computed by the real core "
            "with tests/data/make_flagd_v3_vectors.py. Changing any is a breaking change."
        ),
        "vectors": vectors,
    }
    json.dump(document, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
