"""flagd documents as flagkit snapshots: prebuilt outcomes, detection and the public module."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit._sources.pipeline import snapshot_from_bytes
from flagkit.formats.flagd._snapshot import looks_like_flagd, snapshot_from_flagd
from tests.formats.flagd_cases import DOCUMENT


def test_static_flag_is_a_constant_outcome() -> None:
    """A flag without targeting evaluates to one prebuilt outcome, like a native flag."""
    snapshot = snapshot_from_flagd(DOCUMENT)
    evaluate = snapshot.flags["static"].evaluate
    assert evaluate({}) is evaluate({"targetingKey": "x"})
    resolution, bucket = evaluate({})
    assert (True, "on", flagkit.Reason.STATIC, None) == (
        resolution.value,
        resolution.variant,
        resolution.reason,
        bucket,
    )


def test_targeting_results_are_prebuilt() -> None:
    """Two contexts landing on the same variant get the very same Resolution object."""
    evaluate = snapshot_from_flagd(DOCUMENT).flags["strings"].evaluate
    first = evaluate({"email": "admin1@x"})[0]
    second = evaluate({"email": "admin2@y"})[0]
    assert first is second
    assert ("blue", flagkit.Reason.TARGETING_MATCH) == (first.variant, first.reason)


def test_fractional_fast_path_matches_bucket_formula() -> None:
    """The inlined fractional split serves by bucket_of(flag key, targeting key, total)."""
    document = {
        "flags": {
            "ramp": {
                "state": "ENABLED",
                "variants": {"a": 1, "b": 2, "c": 3},
                "defaultVariant": "a",
                "targeting": {"fractional": [["a", 10], ["b", 0], ["c", 23]]},
            }
        }
    }
    client = flagkit.Client.from_dict(document, format="flagd")
    for number in range(2000):
        key = f"user-{number}"
        point = flagkit.bucket_of("ramp", key, 33)
        expected = "a" if point < 10 else "c"
        assert expected == client.get_details("ramp", 0, {"targetingKey": key}).variant
    missing = client.get_int_details("ramp", 0, {"targetingKey": 5})
    assert ("a", flagkit.Reason.DEFAULT) == (missing.variant, missing.reason)


def test_values_types_and_metadata() -> None:
    """Variant types map onto flagkit value types; flag-set and flag metadata merge."""
    document = {
        "metadata": {"flagSetId": "shop", "version": 1},
        "flags": {
            "n": {"variants": {"one": 1, "half": 0.5}, "defaultVariant": "half"},
            "i": {"variants": {"one": 1}, "defaultVariant": "one", "metadata": {"version": 2}},
            "o": {"variants": {"x": {"k": [1]}}, "defaultVariant": "x"},
        },
    }
    snapshot = snapshot_from_flagd(document)
    assert {"n": "float", "i": "int", "o": "object"} == {
        key: flag.value_type for key, flag in snapshot.flags.items()
    }
    assert {"flagSetId": "shop", "version": 2} == dict(snapshot.flags["i"].metadata)
    client = flagkit.Client(snapshot)
    assert 0.5 == client.get_float("n", 0.0)
    assert {"k": [1]} == client.get_object("o", {})
    assert flagkit.ErrorCode.TYPE_MISMATCH == client.get_bool_details("i", False).error_code


def test_invalid_document_reports_every_problem() -> None:
    """A broken flagd document raises one DefinitionError, located per flag."""
    document = {
        "flags": {
            "a": {"variants": {"x": 1, "y": "s"}, "defaultVariant": "x"},
            "b": {"variants": {"x": 1}, "defaultVariant": "x", "targeting": {"nope": []}},
        }
    }
    with pytest.raises(flagkit.DefinitionError) as caught:
        snapshot_from_flagd(document, isolate=False)
    assert {"a", "b"} == {problem.flag for problem in caught.value.problems}
    isolated = snapshot_from_flagd(document)
    assert frozenset({"a", "b"}) == isolated.refused
    assert {"a", "b"} == {problem.flag for problem in isolated.problems}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"$schema": "https://flagd.dev/schema/v0/flags.json", "flags": {}}, True),
        ({"flags": {"f": {"state": "ENABLED", "variants": {"a": 1}}}}, True),
        ({"flags": {"f": {"variants": {"a": 1}, "defaultVariant": "a"}}}, True),
        ({"flags": {"f": {"variants": {"a": 1}, "default": "a"}}}, False),
        ({"version": 1, "flags": {}}, False),
        ({"$evaluators": {}, "flags": {}}, True),
        ([], False),
    ],
)
def test_auto_detection(document: Any, expected: bool) -> None:
    """format="auto" recognises flagd documents by schema, evaluators or flag shape."""
    assert expected == looks_like_flagd(document)


def test_file_source_reads_flagd(tmp_path: Path) -> None:
    """Client.from_file(format=...) reads flagd files, explicitly or detected, and reloads."""
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    for fmt in ("flagd", "auto"):
        with flagkit.Client.from_file(path, format=fmt) as client:  # type: ignore[arg-type]
            assert "flagd" == client.snapshot.format
            assert client.get_bool("static", False) is True
    source = flagkit.FileSource(path, format="flagd")
    changed: list[frozenset[str]] = []
    with flagkit.Client(source) as client:
        client.on_change(lambda event: changed.append(event.changed))
        document = json.loads(json.dumps(DOCUMENT))
        document["flags"]["static"]["defaultVariant"] = "off"
        path.write_text(json.dumps(document), encoding="utf-8")
        assert source.check()
        assert client.get_bool("static", True) is False
    assert [frozenset({"static"})] == changed


def test_snapshot_from_bytes_dispatch() -> None:
    """snapshot_from_bytes is the one bytes-to-snapshot step for every format."""
    text = json.dumps(DOCUMENT)
    assert "flagd" == snapshot_from_bytes(text, "json", format="auto").format
    native = '{"flags": {"f": {"variants": {"on": true}, "default": "on"}}}'
    assert "native" == snapshot_from_bytes(native, "json", format="auto").format
    with pytest.raises(flagkit.SourceError, match="unknown document format"):
        snapshot_from_bytes(text, "json", format="launchdarkly")  # type: ignore[arg-type]
    with pytest.raises(flagkit.DefinitionError):
        snapshot_from_bytes(text, "json")  # a flagd document is not a native one


def test_public_module_exports() -> None:
    """flagkit.formats.flagd is the public surface of the flagd format."""
    from flagkit.formats import flagd

    assert [
        "Conversion",
        "convert_flagd",
        "looks_like_flagd",
        "snapshot_from_flagd",
        "validate_flagd_document",
    ] == flagd.__all__
    assert all(hasattr(flagd, name) for name in flagd.__all__)
