"""Fractional v3 against vectors the real ``openfeature-flagd-core`` 2.0 computes.

``tests/data/flagd_v3_vectors.json`` is the output of
``tests/data/make_flagd_v3_vectors.py`` run with flagd-core 2.0 (in the second
environment the differential test also uses). One test runs that script again
and requires the committed file to be exactly its output, so the vectors are
never copied by hand; the others check flagkit's CBOR, hash and bucket
against each vector, and that v2 stays the default.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit._core.bucketing import hash_bytes
from flagkit.formats.flagd._cbor import canonical_cbor
from flagkit.formats.flagd._operators import fractional
from tests.formats import references

DATA = Path(__file__).resolve().parents[1] / "data"
VECTORS: list[dict[str, Any]] = json.loads((DATA / "flagd_v3_vectors.json").read_text("utf-8"))[
    "vectors"
]


def test_the_vectors_are_the_real_cores_output() -> None:
    """Running the generator with flagd-core 2.0 reproduces the committed file exactly."""
    python = references.v3_python()
    produced = subprocess.run(
        [str(python), str(DATA / "make_flagd_v3_vectors.py")],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert json.loads((DATA / "flagd_v3_vectors.json").read_text("utf-8")) == json.loads(produced)


def _hashed_value(vector: dict[str, Any]) -> Any:
    if vector["flagKey"] != "by-value":  # the shorthand hashes [flagKey, targetingKey]
        return [vector["flagKey"], vector["targetingKey"]]
    return vector["arguments"][0]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["cbor"][:24])
def test_flagkit_matches_each_vector(vector: dict[str, Any]) -> None:
    """flagkit's CBOR, hash and bucket are the core's, for every vector."""
    encoded = canonical_cbor(_hashed_value(vector))
    assert (vector["cbor"], vector["hash"]) == (encoded.hex(), hash_bytes(encoded))
    data = {"targetingKey": vector["targetingKey"]}
    picked = fractional(vector["arguments"], data, flag_key=vector["flagKey"], hashing="v3")
    assert vector["variant"] == picked


def test_a_client_chooses_v3_and_defaults_to_v2() -> None:
    """``flagd_hashing="v3"`` buckets as the vectors say; the default is v2's formula."""
    shorthand = [v for v in VECTORS if v["flagKey"] == "checkout"]
    buckets = shorthand[0]["arguments"]
    document = {
        "flags": {
            "checkout": {
                "variants": {"red": "red", "green": "green", "blue": "blue"},
                "defaultVariant": "red",
                "targeting": {"fractional": buckets},
            }
        }
    }
    v3 = flagkit.Client.from_dict(document, format="flagd", flagd_hashing="v3")
    v2 = flagkit.Client.from_dict(document, format="flagd")
    for vector in shorthand:
        context = {"targetingKey": vector["targetingKey"]}
        assert vector["variant"] == v3.get_str("checkout", "?", context)
        bucket = flagkit.bucket_of("checkout", vector["targetingKey"], 100)
        expected = "red" if bucket < 10 else "green" if bucket < 40 else "blue"
        assert expected == v2.get_str("checkout", "?", context)


def test_an_unknown_hashing_is_refused() -> None:
    """A misspelled hashing is an error at construction, not a silent v2."""
    with pytest.raises(flagkit.SourceError, match="flagd hashing"):
        flagkit.Client.from_dict({"flags": {}}, format="flagd", flagd_hashing="v4")  # type: ignore[arg-type]
