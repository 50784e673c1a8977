"""Evaluation counters: exact totals, bounded tables across reloads, finished threads retired."""

from __future__ import annotations

import gc
import threading
from typing import Any

import flagkit
from flagkit._core.snapshot import Resolution

BOOL = {"on": True, "off": False}
PRO = {"plan": "pro"}
ROUNDS = 2000
# Flag keys no other test uses: the census below counts objects process-wide.
STATIC, TARGETED, TEXT = "counted-static", "counted-targeted", "counted-text"


def document(static: str, text: str) -> dict[str, Any]:
    """Return a document with a static flag, a targeted one and a string flag."""
    return {
        "flags": {
            STATIC: {"variants": BOOL, "default": static},
            TARGETED: {
                "variants": BOOL,
                "rules": [
                    {"when": [{"attribute": "plan", "op": "equals", "value": "pro"}], "serve": "on"}
                ],
                "default": "off",
            },
            TEXT: {"variants": {"x": "x", "y": "y"}, "default": text},
        }
    }


DOC_A = document("on", "x")
DOC_B = document("off", "y")


def evaluate_each(client: flagkit.Client) -> None:
    """Evaluate every flag once: the fast path (constant and evaluator) and the observed one."""
    client.get_bool(STATIC, False)
    client.get_bool(TARGETED, False, PRO)
    client.get_str_details(TEXT, "?")


def reload_and_evaluate(source: flagkit.MemorySource, client: flagkit.Client) -> None:
    """Alternate the two documents ``ROUNDS`` times each, evaluating between every reload."""
    for _ in range(ROUNDS):
        source.update(DOC_A)
        evaluate_each(client)
        source.update(DOC_B)
        evaluate_each(client)


def live_resolutions(flag_key: str) -> list[Resolution]:
    """Return every Resolution of ``flag_key`` still alive after a full collection."""
    gc.collect()
    return [o for o in gc.get_objects() if type(o) is Resolution and o.flag_key == flag_key]


def test_reloads_do_not_grow_the_counter_table() -> None:
    """After 4,000 reloads the thread's table holds one entry per distinct count, totals exact."""
    source = flagkit.MemorySource(DOC_A)
    client = flagkit.Client(source, counters=True)
    reload_and_evaluate(source, client)
    client.get_bool("counted-missing", False)  # FLAG_NOT_FOUND
    client.get_bool(TEXT, False)  # TYPE_MISMATCH
    assert client._counters is not None
    assert 7 == len(client._counters.local.counts)
    assert {
        (STATIC, "on", "STATIC", None): ROUNDS,
        (STATIC, "off", "STATIC", None): ROUNDS,
        (TARGETED, "on", "TARGETING_MATCH", None): 2 * ROUNDS,
        (TEXT, "x", "STATIC", None): ROUNDS,
        (TEXT, "y", "STATIC", None): ROUNDS,
        ("counted-missing", None, "ERROR", "FLAG_NOT_FOUND"): 1,
        (TEXT, None, "ERROR", "TYPE_MISMATCH"): 1,
    } == client.counters()


def test_counted_resolutions_of_old_snapshots_are_released() -> None:
    """Counting does not keep an old snapshot's resolutions alive once it is replaced."""
    source = flagkit.MemorySource(DOC_A)
    client = flagkit.Client(source, counters=True)
    evaluate_each(client)  # count resolutions of the first snapshot
    first = client.snapshot.flags[TARGETED].evaluate(PRO)[0]
    source.update(DOC_A)  # the same document compiles to new resolutions
    assert first is not client.snapshot.flags[TARGETED].evaluate(PRO)[0]
    del first
    reload_and_evaluate(source, client)
    current = client.snapshot
    alive = {
        flag_key: {id(r) for r in live_resolutions(flag_key)}
        for flag_key in (STATIC, TARGETED, TEXT)
    }
    assert {STATIC: 1, TARGETED: 2, TEXT: 1} == {k: len(ids) for k, ids in alive.items()}
    assert {
        STATIC: {id(current.flags[STATIC].evaluate({})[0])},
        TARGETED: {id(current.flags[TARGETED].evaluate(c)[0]) for c in (PRO, {})},
        TEXT: {id(current.flags[TEXT].evaluate({})[0])},
    } == alive


def test_counts_of_a_finished_thread_are_retired_into_the_totals() -> None:
    """A thread's counts survive its exit (folded into the totals) and are not counted twice."""
    source = flagkit.MemorySource(DOC_A)
    client = flagkit.Client(source, counters=True)
    counters = client._counters
    assert counters is not None

    def work() -> None:
        for _ in range(100):
            client.get_bool(STATIC, False)
            client.get_bool(TARGETED, False, PRO)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    source.update(DOC_B)
    client.get_bool(STATIC, False)  # this thread's first count: retires the finished one
    expected = {
        (STATIC, "on", "STATIC", None): 100,
        (TARGETED, "on", "TARGETING_MATCH", None): 100,
        (STATIC, "off", "STATIC", None): 1,
    }
    assert expected == client.counters()
    assert [threading.current_thread()] == [thread for thread, _ in counters._tables._all]
    assert expected == client.counters()  # read twice: nothing counted twice
