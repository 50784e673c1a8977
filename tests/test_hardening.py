"""Regression tests from the code review: hostile input, races and fork safety."""

from __future__ import annotations

import json
import os
import threading
import time
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import ErrorCode, ExposureEvent
from flagkit._core.safe_regex import UnsafePatternError, compile_safe

BOOL = {"on": True, "off": False}


@pytest.mark.parametrize(
    "pattern",
    [
        "(?i)(?:a*A)*$",
        "(?:(?i:a)*A)*$",
        "(?:(?s:.)*\n)*$",
        "(?:[\u0500-\u0600]*[\u0550-\u0551])*$",
        "(?:\\d*[\u0660-\u0669])*$",
    ],
)
def test_flags_and_far_ranges_cannot_smuggle_backtracking(pattern: str) -> None:
    """Case folding, scoped DOTALL and ranges outside Latin-1 are checked too."""
    with pytest.raises(UnsafePatternError):
        compile_safe(pattern)


def test_case_insensitive_patterns_still_work() -> None:
    """A safe (?i) pattern is accepted and matches either case."""
    assert compile_safe(r"(?i)^[a-z]+@example\.com$").search("Ann@EXAMPLE.com") is not None


class Plan(StrEnum):
    PRO = "pro"
    FREE = "free"


class Tier(IntEnum):
    GOLD = 3


def test_str_and_int_subclasses_compare_by_value(make_client: Any) -> None:
    """StrEnum / IntEnum context values behave like their plain values, negated or not."""

    def rule(cond):
        return {
            "variants": BOOL,
            "rules": [{"when": [cond], "serve": "on"}],
            "default": "off",
        }

    client = make_client(
        {
            "in": rule({"attribute": "plan", "op": "in", "values": ["pro", "ent"]}),
            "not_in": rule({"attribute": "plan", "op": "not_in", "values": ["pro", "ent"]}),
            "eq": rule({"attribute": "plan", "op": "equals", "value": "pro"}),
            "mixed": rule({"attribute": "tier", "op": "in", "values": [3, "x"]}),
            "split": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 50, "off": 50}}}},
        }
    )
    ctx = {"plan": Plan.PRO, "tier": Tier.GOLD, "targetingKey": Plan.FREE}
    assert (True, False, True, True) == tuple(
        client.get_bool(k, False, ctx) for k in ("in", "not_in", "eq", "mixed")
    )
    assert client.get_bool_details("split", False, ctx).bucket == flagkit.bucket_of("split", "free")


def test_huge_numbers_in_contexts_are_just_false_or_missing(make_client: Any) -> None:
    """A huge int is a false condition or a missing key, never ERROR/GENERAL."""
    client = make_client(
        {
            "when": {
                "variants": BOOL,
                "rules": [
                    {
                        "when": [
                            {"attribute": "t", "op": "before", "value": "2030-01-01T00:00:00Z"}
                        ],
                        "serve": "on",
                    }
                ],
                "default": "off",
            },
            "split": {"variants": BOOL, "default": {"rollout": {"weights": {"on": 50, "off": 50}}}},
        }
    )
    details = client.get_bool_details("when", True, {"t": 10**400})
    assert (False, "DEFAULT") == (details.value, details.reason.value)
    assert (
        client.get_bool_details("split", True, {"targetingKey": 10**5000}).error_code
        == ErrorCode.TARGETING_KEY_MISSING
    )


@pytest.mark.parametrize(
    ("variants", "message"),
    [
        ({"a": 10**400}, "64 bits"),
        ({"a": float("nan")}, "finite"),
        ({"a": json.loads("[" * 0 + '{"x":' * 40 + "1" + "}" * 40)}, "nest at most"),
        ({"a": {"x": {1, 2}}}, "not a JSON value"),
    ],
)
def test_variant_values_are_bounded(variants: dict[str, Any], message: str) -> None:
    """Unbounded or non-JSON variant values are refused at load time."""
    with pytest.raises(flagkit.DefinitionError, match=message):
        flagkit.Client.from_dict({"flags": {"f": {"variants": variants, "default": "a"}}})


def test_deeply_nested_file_is_a_definition_error(tmp_path: Path) -> None:
    """A document nested deeper than the parser allows is a DefinitionError, not a crash."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(flagkit.DefinitionError):
        flagkit.Client.from_file(path)


def test_watcher_survives_any_failure_and_keeps_watching(tmp_path: Path) -> None:
    """Whatever a bad file raises, it is reported and later good files still load."""
    path = tmp_path / "flags.json"
    path.write_text(
        json.dumps({"flags": {"f": {"variants": {"one": 1, "two": 2}, "default": "one"}}})
    )
    errors: list[Exception] = []
    with flagkit.Client.from_file(path, watch=True, interval=0.02) as client:
        client.on_error(errors.append)
        path.write_text("[" * 100_000 + "]" * 100_000)
        _wait(lambda: bool(errors))
        path.write_text(
            json.dumps({"flags": {"f": {"variants": {"one": 1, "two": 2}, "default": "two"}}})
        )
        _wait(lambda: client.get_int("f", 0) == 2)
        assert client.get_int("f", 0) == 2
    assert errors


def _wait(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not condition():
        time.sleep(0.01)


EXPERIMENT = {"flags": {"exp": {"kind": "experiment", "variants": BOOL, "default": "on"}}}


def test_unhashable_or_hostile_contexts_never_raise() -> None:
    """Lists as keys, raising mappings and raising .get() never escape a getter."""

    class RaisingIter(dict[str, Any]):
        def __iter__(self) -> Any:
            raise RuntimeError("boom iter")

        def keys(self) -> Any:
            raise RuntimeError("boom keys")

    class RaisingGet(dict[str, Any]):
        def get(self, *args: Any) -> Any:
            raise RuntimeError("no get")

    events: list[ExposureEvent] = []
    client = flagkit.Client.from_dict(EXPERIMENT, exposures=events.extend, context={"app": "x"})
    assert client.get_bool("exp", False, {"targetingKey": ["u1"]}) is True
    assert client.get_bool("exp", False, RaisingIter(a=1)) is False
    assert client.get_bool_details("exp", False, RaisingIter(a=1)).error_code == ErrorCode.GENERAL
    assert client.get_bool("exp", False, RaisingGet(a=1)) in (True, False)
    client.close()


def test_exposure_records_integer_keys_as_text() -> None:
    """An integer targeting key buckets as its decimal text, and is recorded so."""
    events: list[ExposureEvent] = []
    with flagkit.Client.from_dict(EXPERIMENT, exposures=events.extend) as client:
        client.get_bool("exp", False, {"targetingKey": 42})
    assert ["42"] == [e.targeting_key for e in events]


def test_details_and_all_flags_hand_out_copies() -> None:
    """Mutating an object value from get_details or all_flags cannot change the flags."""
    client = flagkit.Client.from_dict(
        {"flags": {"cfg": {"variants": {"a": {"limit": 1, "tags": ["x"]}}, "default": "a"}}}
    )
    first = client.get_details("cfg", None).value
    first["limit"] = 999
    first["tags"].append("evil")
    client.all_flags()["cfg"].value["limit"] = 998
    assert {"limit": 1, "tags": ["x"]} == client.get_object("cfg", {})


def test_a_segment_change_is_a_change_of_the_flags_using_it() -> None:
    """Listeners hear about flags whose segment (or prerequisite) changed."""

    def document(members: list[str], default: str) -> dict[str, Any]:
        return {
            "segments": {"beta": {"include": members}},
            "flags": {
                "b": {
                    "variants": BOOL,
                    "rules": [{"when": [{"op": "in_segment", "value": "beta"}], "serve": "on"}],
                    "default": "off",
                },
                "base": {"variants": BOOL, "default": default},
                "child": {
                    "variants": BOOL,
                    "prerequisites": [{"flag": "base", "variants": ["on"]}],
                    "off_variant": "off",
                    "default": "on",
                },
            },
        }

    source = flagkit.MemorySource(document(["u1"], "on"))
    client = flagkit.Client(source)
    events: list[flagkit.ChangeEvent] = []
    client.on_change(events.append)
    source.update(document(["u1", "u2"], "on"))
    source.update(document(["u1", "u2"], "off"))
    assert [{"b"}, {"base", "child"}] == [set(e.modified) for e in events]


def test_context_function_that_raises_calls_the_fallback() -> None:
    """A toggle point whose context function raises runs the fallback, even with a scope."""
    client = flagkit.Client.from_dict(
        {
            "flags": {
                "f": {
                    "variants": BOOL,
                    "rules": [
                        {
                            "when": [{"attribute": "plan", "op": "equals", "value": "pro"}],
                            "serve": "on",
                        }
                    ],
                    "default": "off",
                }
            }
        }
    )

    def boom(*_: Any) -> dict[str, Any]:
        raise RuntimeError("context function failed")

    toggled = client.feature("f", fallback=lambda: "old", context=boom)(lambda: "new")
    with flagkit.scoped_context({"plan": "pro"}):
        assert toggled() == "old"


def test_file_changed_between_stat_and_read_is_picked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save racing a reload is seen by the next poll (stat before read)."""
    from flagkit._sources import file as _file_source

    path = tmp_path / "flags.json"

    def write(default):
        return path.write_text(
            json.dumps(
                {"flags": {"f": {"variants": {"one": 1, "two": 2, "three": 3}, "default": default}}}
            )
        )

    write("one")
    source = flagkit.FileSource(path)
    client = flagkit.Client(source)
    real_read = _file_source.read_bytes

    def racing_read(p: Any) -> bytes:
        data = real_read(p)
        write("three")  # the second save lands right after the read
        return data

    write("two")
    monkeypatch.setattr(_file_source, "read_bytes", racing_read)
    source.check()
    monkeypatch.setattr(_file_source, "read_bytes", real_read)
    source.check()
    assert client.get_int("f", 0) == 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_locks_held_by_other_threads_at_fork_do_not_deadlock_the_child() -> None:
    """Counters and publish locks are replaced in a forked child."""
    client = flagkit.Client.from_dict(
        {"flags": {"f": {"variants": BOOL, "default": "on"}}}, counters=True
    )
    client.get_bool("f", False)
    assert client._counters is not None
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with client._counters._registry_lock, client._publish_lock:  # type: ignore[union-attr]
            held.set()
            release.wait(10)

    threading.Thread(target=holder, daemon=True).start()
    held.wait(5)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        done: list[bool] = []

        def work() -> None:
            client.get_bool("f", False)
            client.source.update({"flags": {"f": {"variants": BOOL, "default": "off"}}})  # type: ignore[attr-defined]
            done.append(client.get_bool("f", True) is False)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        thread.join(5)
        os.write(write_end, b"ok" if done == [True] else b"hung")
        os._exit(0)
    release.set()
    os.close(write_end)
    answer = os.read(read_end, 8)
    os.close(read_end)
    os.waitpid(pid, 0)
    assert answer == b"ok"
