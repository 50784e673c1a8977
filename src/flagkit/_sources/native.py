"""The fast load of a native document: decoded in C, checked a flag at a time, compiled lazily.

``pipeline`` tries this first for native documents. It validates every
flag in full before a snapshot exists:

1. the envelope is decoded with each flag and segment left as JSON text
   (``shapes.split_document``), and the caps are checked (``limits``);
2. each segment, then each flag, is decoded into its shape and cross-checked
   (``validate.DocumentChecker``), then dropped: only its text is kept;
3. the checks across flags run (prerequisites, cycles);
4. the snapshot's flags are a ``LazyFlags``: each compiles on first use.

Any refusal (a shape the structs do not take, a cross-check problem)
returns None, and ``pipeline`` runs the models, which accept what the
shapes only refused for being lenient, or report every problem with its
location. A valid document never pays for the models; an invalid one
gets their full report.

Between flags, ``Pacer`` lets other threads run: a reload on a background
thread then never holds the interpreter for more than about a millisecond
at a time (the longest step is decoding one flag), so evaluations on other
threads keep answering from the old snapshot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import msgspec

from flagkit._core.compile import FlagCompiler
from flagkit._core.lazy import LazyFlags, empty_tables, stub_tables
from flagkit._core.snapshot import VALUE_TYPES, Snapshot
from flagkit._definitions import limits, shapes
from flagkit._definitions.validate import DocumentChecker
from flagkit._types import Clock

__all__ = ["Pacer", "snapshot_from_json", "snapshot_from_parsed"]

_INDEX: dict[str, int] = {name: i for i, name in enumerate(VALUE_TYPES)}
_ONE_TABLE = frozenset({"bool", "str", "object"})
_ENVELOPE_KEYS = frozenset({"$schema", "version", "segments", "flags"})


class Pacer:
    """Let other threads run about every ``interval`` seconds of a long load.

    A yield releases the GIL (``time.sleep``): a thread waiting for it (an
    evaluation) takes it at once instead of after the interpreter's 5 ms
    switch interval. ``sleep(0)`` costs a system call when no one waits;
    when a yield shows that someone did (it took long: the other thread
    ran), the next yields sleep ``wake`` seconds, so that a waiting thread
    surely wakes and takes the GIL before the load wants it back. With no
    other thread alive, the pacer does nothing.
    """

    __slots__ = ("_active", "_interval", "_next", "_pause", "_wake")

    def __init__(self, interval: float = 0.001, wake: float = 0.0002) -> None:
        self._active = threading.active_count() > 1
        self._interval = interval
        self._wake = wake
        self._pause = 0.0
        self._next = time.perf_counter() + interval

    def __call__(self) -> None:
        """Yield if the interval has passed since the last yield."""
        if self._active:
            now = time.perf_counter()
            if now >= self._next:
                time.sleep(self._pause)
                after = time.perf_counter()
                self._pause = self._wake if after - now > self._interval else 0.0
                self._next = after + self._interval


def snapshot_from_json(
    data: bytes | str, *, origin: str, revision: str, clock: Clock
) -> Snapshot | None:
    """Load a native JSON document lazily; None when the models must decide."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    try:
        envelope = shapes.split_document(data, source=origin)
    except shapes.ShapeError:
        return None
    try:
        segments = {name: shapes.decode_segment(raw) for name, raw in envelope.segments.items()}
    except shapes.ShapeError:
        return None
    texts = envelope.flags
    return _build(
        texts,
        texts.items(),
        segments,
        {name: bytes(raw) for name, raw in envelope.segments.items()},
        origin=origin,
        revision=revision,
        clock=clock,
    )


def snapshot_from_parsed(raw: Any, *, origin: str, revision: str, clock: Clock) -> Snapshot | None:
    """Load a parsed native document (YAML, TOML, a dict) lazily; None when the models must decide.

    Each flag is kept as the JSON of its shape, so later changes to the
    caller's dict cannot reach the snapshot.
    """
    if not isinstance(raw, Mapping):
        return None
    limits.check_document_counts(raw, source=origin)
    if not raw.keys() <= _ENVELOPE_KEYS:
        return None
    if raw.get("version", 1) != 1 or type(raw.get("version", 1)) is not int:
        return None
    if not isinstance(raw.get("$schema", ""), str):
        return None
    flags, segments = raw.get("flags", {}), raw.get("segments", {})
    if not isinstance(flags, Mapping) or not isinstance(segments, Mapping):
        return None
    try:
        checked = {_key(name): shapes.convert_segment(data) for name, data in segments.items()}
        converted = {_key(key): shapes.convert_flag(data) for key, data in flags.items()}
    except shapes.ShapeError:
        return None
    # The JSON of a checked shape decodes to an equal shape (checked values are JSON).
    texts: dict[str, Any] = {}
    return _build(
        texts,
        _encoded(converted, texts),
        checked,
        {name: msgspec.json.encode(segment) for name, segment in checked.items()},
        origin=origin,
        revision=revision,
        clock=clock,
        decode=None,
    )


def _encoded(converted: dict[str, Any], texts: dict[str, bytes]) -> Iterator[tuple[str, Any]]:
    """Yield each converted flag, keeping its JSON text in ``texts`` once it is checked."""
    for key, flag in converted.items():
        yield key, flag
        texts[key] = shapes.encode_flag(flag)


def _key(name: Any) -> str:
    """Return a flag or segment name the models would accept, else raise ValueError."""
    if type(name) is not str or not 1 <= len(name) <= 256:
        raise ValueError("names must be 1-256 character strings")
    return name


def _build(
    texts: dict[str, Any],
    definitions: Iterable[tuple[str, Any]],
    segments: dict[str, Any],
    segment_texts: dict[str, bytes],
    *,
    origin: str,
    revision: str,
    clock: Clock,
    decode: Callable[[Any], Any] | None = shapes.decode_flag,
) -> Snapshot | None:
    """Check every flag of ``definitions``, then make the lazy snapshot.

    ``definitions`` yields (key, JSON text) to ``decode``, or (key, shape)
    when ``decode`` is None. ``texts`` holds (or fills, as ``definitions``
    is consumed) each flag's JSON text, which the snapshot keeps to compile
    the flag later.
    """
    checker = DocumentChecker(segments)
    if checker.problems:
        return None
    tables = empty_tables()
    flags = LazyFlags(
        texts,
        decode=shapes.decode_flag,
        compiler=FlagCompiler(segments, clock, keep=False, segment_texts=segment_texts),
        tables=tables,
    )
    check, problems, stub, pace = checker.check_flag, checker.problems, flags.stub, Pacer()
    try:
        for key, item in definitions:
            flag = item if decode is None else decode(item)
            kind = check(key, flag)
            if problems:
                return None
            # The common case first: a boolean or string flag, in one table.
            if (kind in _ONE_TABLE) and (flag.enabled or flag.off_variant is not None):
                index = _INDEX[kind]
                tables[index][key] = stub(key, index)
                pace()
                continue
            for index in stub_tables(flag, kind):
                tables[index][key] = stub(key, index)
            pace()
    except shapes.ShapeError:
        return None
    if checker.finish():
        return None
    flags.guarded_keys = frozenset(checker.guarded)
    return Snapshot(flags=flags, origin=origin, loaded_at=time.time(), revision=revision)
