"""LazyFlags: compiled on first use, and a compile failure still never raises."""

from __future__ import annotations

import gc
import time
import weakref
from typing import Any

from flagkit._core.compile import FlagCompiler
from flagkit._core.details import ErrorCode, Reason
from flagkit._core.lazy import LazyFlags, empty_tables
from flagkit._definitions.shapes import decode_flag


def _lazy(decode: Any) -> LazyFlags:
    return LazyFlags(
        {"a": b'{"variants": {"on": true}, "default": "on"}'},
        decode=decode,
        compiler=FlagCompiler({}, time.time, keep=False),
        tables=empty_tables(),
    )


def test_a_flag_that_fails_to_compile_answers_with_an_error() -> None:
    """Compiling a checked flag cannot fail; if it ever did, the stub answers, never raises."""

    def broken(text: Any) -> Any:
        raise MemoryError("no room")

    resolution, bucket = _lazy(broken).stub("a", 0)({})
    assert (Reason.ERROR, ErrorCode.GENERAL, None) == (
        resolution.reason,
        resolution.error_code,
        bucket,
    )
    assert "compiling the flag failed: MemoryError: no room" == resolution.error_message


def test_the_mapping_compiles_on_access_and_knows_its_keys() -> None:
    """Membership, length and iteration need no compiling; get and [] compile."""
    flags = _lazy(decode_flag)
    assert ("a" in flags, "b" in flags, len(flags), list(flags)) == (True, False, 1, ["a"])
    assert 0 == flags.compiled_count()
    assert None is flags.get("b")
    assert flags.get("a") is flags["a"]
    assert 1 == flags.compiled_count()


def test_a_replaced_snapshot_is_freed_without_the_collector() -> None:
    """Stubs hold their flags weakly: no reference cycle keeps an old snapshot alive."""
    flags = _lazy(decode_flag)
    flags.evaluator_tables[0]["a"] = flags.stub("a", 0)
    alive = weakref.ref(flags)
    gc.disable()
    try:
        del flags
        assert alive() is None
    finally:
        gc.enable()


def test_a_stub_that_outlives_its_snapshot_still_answers() -> None:
    """A getter may hold a stub while a reload drops the snapshot: it compiles on its own."""
    stub = _lazy(decode_flag).stub("a", 0)
    resolution, _ = stub({})
    assert (True, "on", Reason.STATIC) == (resolution.value, resolution.variant, resolution.reason)


def test_flags_sharing_a_prerequisite_compile_and_digest_it_once() -> None:
    """Two flags gated on one: the second finds it compiled, and its digest known."""
    pre = b'{"flag": "base", "variants": ["on"]}'
    flag = b'{"variants": {"on": true}, "default": "on", "prerequisites": [' + pre + b"]}"
    flags = LazyFlags(
        {"base": b'{"variants": {"on": true}, "default": "on"}', "a": flag, "b": flag},
        decode=decode_flag,
        compiler=FlagCompiler({}, time.time, keep=False),
        tables=empty_tables(),
    )
    digests = [flags.fingerprint("a"), flags.fingerprint("b")]
    assert digests[0] == digests[1]  # same text, same prerequisite
    assert flags["a"].plan.gates[0].flag is flags["b"].plan.gates[0].flag is flags["base"]
    assert digests == [flags["a"].fingerprint, flags["b"].fingerprint]
    assert 3 == flags.compiled_count()
