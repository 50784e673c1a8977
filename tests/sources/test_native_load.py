"""The native fast load: every flag validated at load, each compiled on first use, caps kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import DefinitionError
from flagkit._core.lazy import LazyFlags
from flagkit._core.snapshot import Resolution
from flagkit._definitions.limits import MAX_FLAGS
from flagkit._sources.pipeline import snapshot_from_bytes

BOOL = {"on": True, "off": False}


def _rule_flag(i: int) -> dict[str, Any]:
    condition = {"attribute": "plan", "op": "equals", "value": f"plan-{i}"}
    return {"variants": BOOL, "rules": [{"when": [condition], "serve": "on"}], "default": "off"}


def _document(flags: dict[str, Any]) -> bytes:
    return json.dumps({"flags": flags}).encode()


def test_loading_compiles_nothing_and_the_first_evaluation_compiles_one_flag() -> None:
    """The table holds a stub until the first call, then the flag's own evaluator."""
    snapshot = snapshot_from_bytes(
        _document({f"f{i}": _rule_flag(i) for i in range(50)}), "json", origin="flags.json"
    )
    flags = snapshot.flags
    assert isinstance(flags, LazyFlags)
    assert 0 == flags.compiled_count()
    client = flagkit.Client(snapshot)
    assert client.get_bool("f7", False, {"plan": "plan-7"}) is True
    assert 1 == flags.compiled_count()
    assert snapshot.flags["f7"].evaluate is snapshot.evaluators[0]["f7"]
    assert client.get_bool("f7", True, {"plan": "other"}) is False
    assert 1 == flags.compiled_count()


def test_a_constant_flag_becomes_its_resolution_after_the_first_call() -> None:
    """A flag that ignores the context is a resolution in the table (no call at all)."""
    snapshot = snapshot_from_bytes(_document({"c": {"variants": BOOL, "default": "on"}}), "json")
    client = flagkit.Client(snapshot)
    assert client.get_bool("c", False) is True
    assert isinstance(snapshot.evaluators[0]["c"], Resolution)


def test_a_bad_flag_is_refused_at_load_never_at_evaluation() -> None:
    """One broken flag among many: found at load, located, with nothing evaluated."""
    flags = {f"f{i}": _rule_flag(i) for i in range(200)}
    flags["f150"]["rules"][0]["serve"] = "maybe"
    expected = [
        "flags.json: flag 'f150': rules[0].serve: unknown variant 'maybe' (variants: on, off)"
    ]
    with pytest.raises(DefinitionError) as info:
        snapshot_from_bytes(_document(flags), "json", origin="flags.json", isolate=False)
    assert expected == [str(problem) for problem in info.value.problems]
    # Isolating (the default), the bad flag alone is refused; the others load.
    isolated = snapshot_from_bytes(_document(flags), "json", origin="flags.json")
    assert (frozenset({"f150"}), expected) == (
        isolated.refused,
        [str(problem) for problem in isolated.problems],
    )


def test_a_long_prerequisite_chain_compiles_and_digests_without_recursion() -> None:
    """Each flag needs the one before: compiling the last compiles all, in a loop.

    (Evaluating such a chain is another matter: each gate calls the previous
    flag's evaluator, so a chain deeper than the interpreter's recursion
    limit evaluates to the caller's default, with the error.)
    """
    flags: dict[str, Any] = {"f0": {"variants": BOOL, "default": "on"}}
    for i in range(1, 3000):
        flags[f"f{i}"] = {
            "variants": BOOL,
            "prerequisites": [{"flag": f"f{i - 1}", "variants": ["on"]}],
            "default": "on",
        }
    snapshot = snapshot_from_bytes(_document(flags), "json")
    digest = snapshot.fingerprint("f2999")  # before compiling: from the texts
    last = snapshot.flags["f2999"]  # compiles all 3,000
    assert "f2998" == last.plan.gates[0].flag.key
    assert (24, digest) == (len(digest), last.fingerprint)


def test_change_digests_need_no_compiling(tmp_path: Path) -> None:
    """A reload tells listeners what changed; the flags stay uncompiled."""
    path = tmp_path / "flags.json"
    flags = {f"f{i}": _rule_flag(i) for i in range(20)}
    path.write_bytes(_document(flags))
    events: list[flagkit.ChangeEvent] = []
    with flagkit.Client.from_file(path) as client:
        client.on_change(events.append)
        flags["f3"]["default"] = "on"
        path.write_bytes(_document(flags))
        assert isinstance(client.source, flagkit.FileSource)
        assert client.source.check()
        assert [frozenset({"f3"})] == [event.modified for event in events]
        lazy = client.snapshot.flags
        assert isinstance(lazy, LazyFlags)
        assert 0 == lazy.compiled_count()


def test_a_document_over_the_flag_cap_is_refused_and_the_old_flags_kept(tmp_path: Path) -> None:
    """More than MAX_FLAGS flags: a clear error naming the file; the live flags stay."""
    path = tmp_path / "flags.json"
    path.write_bytes(_document({"kept": {"variants": BOOL, "default": "on"}}))
    with flagkit.Client.from_file(path) as client:
        # Tiny entries: the count is checked before any flag is decoded.
        path.write_bytes(_document({f"f{i}": 0 for i in range(MAX_FLAGS + 1)}))
        assert isinstance(client.source, flagkit.FileSource)
        assert not client.source.check()
        error = client.status().last_error or ""
        assert f"{path}: 1 problem" in error
        assert f"more than {MAX_FLAGS:,} flags; refused" in error
        assert client.get_bool("kept", False) is True


@pytest.mark.parametrize("extra", [{}, {"surprise": 1}])
def test_the_flag_cap_holds_on_every_path(extra: dict[str, Any]) -> None:
    """Parsed data, and a document the fast path refuses: counted before any validation."""
    document = {"flags": {f"f{i}": 0 for i in range(MAX_FLAGS + 1)}, **extra}
    with pytest.raises(DefinitionError, match=f"more than {MAX_FLAGS:,} flags"):
        flagkit.Client.from_dict(document)
    text = json.dumps(document).replace('"f0": 0', '"f1": 0, "f0": 0')  # a repeat: the models' path
    with pytest.raises(DefinitionError, match=f"more than {MAX_FLAGS:,} flags"):
        snapshot_from_bytes(text, "json", origin="big.json")
