"""The native document's shapes, decoded in C: the fast path of loading.

``model`` (pydantic) is the definition of what a flag file may say: its
JSON Schema, its error messages, every problem at once. Building pydantic
models costs time and memory, though (10,000 flags made 310,000 objects),
so sources first try these ``msgspec`` structs, which decode JSON bytes (or
convert parsed YAML/TOML data) straight into compact objects without
garbage-collector tracking. The structs carry the same field names and
defaults as the models, so the cross-checks (``validate``) and the compiler
read either.

They accept a *subset* of what the models accept, never more: strict types
(no ``"true"`` for a boolean), a serve object with exactly one of
``variant`` or ``rollout``, and the models' own parsing for dates and times
(``_pydantic_value``). Anything they refuse, or any cross-check problem,
sends the document through the models, which either accept it (a lenient
form the structs do not take) or report every problem with its location.
``tests/definitions/test_shapes.py`` holds the two to the same fields and,
on generated documents, to the same answers.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Raw, Struct

from flagkit._definitions import limits
from flagkit._definitions.vocabulary import Operator

__all__ = [
    "Condition",
    "Document",
    "Flag",
    "Guard",
    "GuardMetric",
    "Prerequisite",
    "Rollout",
    "RolloutStep",
    "Rule",
    "Segment",
    "SegmentRule",
    "ServeObject",
    "ShapeError",
    "convert_flag",
    "convert_segment",
    "decode_flag",
    "decode_segment",
    "encode_flag",
    "split_document",
]

Key = Annotated[str, Meta(min_length=1, max_length=256)]
Weight = Annotated[float, Meta(ge=0, le=100)]
Scalar = str | bool | int | float

#: What the structs raise when they refuse a document (the models then decide).
ShapeError = (msgspec.ValidationError, msgspec.DecodeError, ValueError, TypeError)


class Instant(dt.datetime):
    """A date-time field, parsed by pydantic's own rules (``_pydantic_value``)."""


class Day(dt.date):
    """A date field, parsed by pydantic's own rules (``_pydantic_value``)."""


class _Shape(Struct, forbid_unknown_fields=True, frozen=True, gc=False, kw_only=True):
    """Base: unknown fields refused, immutable, not tracked by the garbage collector."""


class Condition(_Shape, frozen=True, kw_only=True):
    """One test of one context attribute (``model.Condition``)."""

    attribute: Annotated[str, Meta(min_length=1)] | None = None
    op: Operator
    value: Scalar | None = None
    values: list[Scalar] | None = None
    negate: bool = False

    def operands(self) -> list[Any]:
        """Return the operands: ``values``, or ``[value]``, or none."""
        if self.values is not None:
            return list(self.values)
        return [] if self.value is None else [self.value]


class SegmentRule(_Shape, frozen=True, kw_only=True):
    """A rule inside a segment (``model.SegmentRule``)."""

    name: str | None = None
    when: Annotated[list[Condition], Meta(min_length=1)]


class Segment(_Shape, frozen=True, kw_only=True):
    """A reusable group of contexts (``model.Segment``)."""

    description: str | None = None
    by: str = "targetingKey"
    include: list[str | int] = []
    exclude: list[str | int] = []
    rules: list[SegmentRule] = []


class RolloutStep(_Shape, frozen=True, kw_only=True):
    """From ``at`` on, the rollout uses these weights (``model.RolloutStep``)."""

    at: Instant
    weights: Annotated[dict[str, Weight], Meta(min_length=1)]


#: A finite positive float (NaN fails every comparison, infinity the upper bound).
_Effect = Annotated[float, Meta(gt=0, le=1.7976931348623157e308)]


class GuardMetric(_Shape, frozen=True, kw_only=True):
    """One outcome a guard watches (``model.GuardMetric``)."""

    metric: Literal["error_rate", "latency", "event_rate", "event_mean"]
    effect: _Effect
    worse: Literal["higher", "lower"] | None = None
    quantile: Annotated[float, Meta(gt=0, lt=1)] | None = None
    event: Key | None = None


class Guard(_Shape, frozen=True, kw_only=True):
    """Compare the rollout's variants with its control (``model.Guard``)."""

    control: Key
    metrics: Annotated[list[GuardMetric], Meta(min_length=1, max_length=16)]
    alpha: Annotated[float, Meta(gt=0, le=0.5)] = 0.05
    min_sample: Annotated[int, Meta(ge=1, le=1_000_000_000)] = 500
    action: Literal["pause", "rollback"] = "rollback"


class Rollout(_Shape, frozen=True, kw_only=True):
    """Weighted variants chosen by bucket (``model.Rollout``)."""

    weights: Annotated[dict[str, Weight], Meta(min_length=1)]
    by: str = "targetingKey"
    salt: str | None = None
    schedule: list[RolloutStep] = []
    guard: Guard | None = None


class ServeObject(_Shape, frozen=True, kw_only=True):
    """``{variant: ...}`` or ``{rollout: ...}`` (``model.ServeVariant`` / ``ServeRollout``).

    One struct for both, since JSON cannot tell two objects apart by type;
    a serve with neither or both is refused by the cross-checks' fast path.
    """

    variant: Key | None = None
    rollout: Rollout | None = None


class Rule(_Shape, frozen=True, kw_only=True):
    """A targeting rule (``model.Rule``)."""

    name: str | None = None
    when: Annotated[list[Condition], Meta(min_length=1)]
    serve: Key | ServeObject


class Prerequisite(_Shape, frozen=True, kw_only=True):
    """This flag is served only when ``flag`` serves one of ``variants``."""

    flag: Key
    variants: Annotated[list[Key], Meta(min_length=1)]


class Flag(_Shape, frozen=True, kw_only=True):
    """One feature flag (``model.Flag``)."""

    description: str | None = None
    kind: Literal["release", "experiment", "ops", "permission"] = "release"
    owner: str | None = None
    expires: Day | None = None
    tags: list[str] = []
    enabled: bool = True
    variants: Annotated[dict[Key, Any], Meta(min_length=1)]
    off_variant: Key | None = None
    prerequisites: list[Prerequisite] = []
    rules: list[Rule] = []
    default: Key | ServeObject
    track_exposure: bool | None = None


class Document(Struct, forbid_unknown_fields=True, frozen=True, gc=False, kw_only=True):
    """A native document's envelope; each flag and segment is left encoded (``Raw``).

    The flags are decoded one at a time (``decode_flag``), so a load can
    pause between them, and each flag's text is kept for compiling it later.
    """

    schema_: str | None = msgspec.field(default=None, name="$schema")
    version: Literal[1] = 1
    segments: dict[Key, Raw] = {}
    flags: dict[Key, Raw] = {}


@functools.cache
def _adapter(kind: type) -> Any:
    """Return pydantic's parser of ``kind`` (imported only for a document with dates)."""
    from pydantic import TypeAdapter

    return TypeAdapter(kind)


def _pydantic_value(kind: type, value: Any) -> Any:
    """Parse a date or date-time exactly as the models do (``dec_hook``)."""
    if kind is Instant:
        when = _adapter(dt.datetime).validate_python(value)
        return Instant(
            when.year,
            when.month,
            when.day,
            when.hour,
            when.minute,
            when.second,
            when.microsecond,
            when.tzinfo,
            fold=when.fold,
        )
    if kind is Day:
        day = _adapter(dt.date).validate_python(value)
        return Day(day.year, day.month, day.day)
    raise TypeError(f"unsupported type {kind!r}")  # pragma: no cover - only the two markers


_document = msgspec.json.Decoder(Document)
_flag = msgspec.json.Decoder(Flag, dec_hook=_pydantic_value)
_segment = msgspec.json.Decoder(Segment, dec_hook=_pydantic_value)


_top = msgspec.json.Decoder(dict[str, Raw])
_entries = msgspec.json.Decoder(dict[Key, Raw])
_schema = msgspec.json.Decoder(str | None)
_version = msgspec.json.Decoder(Literal[1])
_ENVELOPE = frozenset({"$schema", "version", "segments", "flags"})


def split_document(data: bytes, *, source: str | None = None) -> Document:
    """Decode a JSON document's envelope; raise one of ``ShapeError`` when refused.

    Refused too: a text that may repeat a key of the envelope, of the flags
    or of the segments (``_repeats_no_key``); the models then find and
    locate each repeat. (Keys repeated inside one flag are not seen here.)
    A document with too many flags or segments raises DefinitionError at
    once, naming ``source``: no other path decodes it either.
    """
    top = _top.decode(data)
    flags = _entries.decode(top["flags"]) if "flags" in top else {}
    segments = _entries.decode(top["segments"]) if "segments" in top else {}
    limits.check_counts(len(flags), len(segments), source=source)
    if not top.keys() <= _ENVELOPE:
        raise ValueError("unknown envelope field")
    document = Document(
        schema_=_schema.decode(top["$schema"]) if "$schema" in top else None,
        version=_version.decode(top["version"]) if "version" in top else 1,
        segments=segments,
        flags=flags,
    )
    if not _repeats_no_key(data, top, document):
        raise ValueError("a key may be repeated")
    return document


def _repeats_no_key(data: bytes, top: dict[str, Raw], document: Document) -> bool:
    """Return True when ``data`` certainly repeats no envelope, flag or segment key.

    Decoding keeps the last of repeated keys. Each key-value pair of a JSON
    text is one colon outside strings, so the text's colons must be exactly
    those of the pairs kept at these three levels, plus those inside the
    kept keys and entries; a repeat adds a pair that was not kept. (An
    escaped colon in a key, ``\u003a``, also makes the counts differ: the
    models then decide, as for a repeat.)
    """
    inner = [raw for key, raw in top.items() if key not in ("flags", "segments")]
    entries = [*document.flags.values(), *document.segments.values(), *inner]
    keys = "".join([*top, *document.flags, *document.segments])
    pairs = len(top) + len(document.flags) + len(document.segments)
    return data.count(b":") == pairs + keys.count(":") + b"".join(entries).count(b":")


#: Decode one flag's JSON text (``Raw`` or bytes); raise one of ``ShapeError`` when refused.
decode_flag = _flag.decode
#: Decode one segment's JSON text; raise one of ``ShapeError`` when refused.
decode_segment = _segment.decode


def _iso(value: Any) -> str:
    """Encode the date and date-time fields (``enc_hook``) as ISO 8601 text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_iso)


def encode_flag(flag: Flag) -> bytes:
    """Return a checked flag's JSON text, which ``decode_flag`` turns back into an equal flag."""
    return _encoder.encode(flag)


def convert_flag(data: Any) -> Flag:
    """Convert one flag's parsed data (YAML, TOML, a dict); raise ``ShapeError`` when refused."""
    return msgspec.convert(data, Flag, strict=True, dec_hook=_pydantic_value)


def convert_segment(data: Any) -> Segment:
    """Convert one segment's parsed data; raise one of ``ShapeError`` when refused."""
    return msgspec.convert(data, Segment, strict=True, dec_hook=_pydantic_value)
