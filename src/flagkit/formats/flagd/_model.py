"""Pydantic models of a flagd flag-definition document.

Follows the published schema, https://flagd.dev/schema/v0/flags.json
(open-feature/flagd-schemas ``json/flags.json``), including its later
relaxations: ``state`` may be omitted (ENABLED), ``variants`` may be omitted
(the boolean pair ``{"true": true, "false": false}``), and ``defaultVariant``
may be absent or null (the caller's default is served).

The schema leaves flag objects and the document open to unknown keys, so these
models ignore them; it forbids empty keys in ``flags``, ``variants`` and
``$evaluators``, and so do these models.

:func:`validate_flagd_document` reports every problem at once, each located as
``flags.<key>.<field path>``; targeting rules are checked by compiling them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from flagkit._errors import Problem
from flagkit.formats._problems import definition_error

__all__ = [
    "FlagdDocument",
    "FlagdFlag",
    "PlainFlag",
    "VariantKind",
    "plain_flags",
    "validate_flagd_document",
    "variant_kind",
]

VariantKind = Literal["boolean", "string", "number", "object"]

#: JSON numbers beyond 2**53 - 1 lose precision in JavaScript providers; the
#: schema bounds integer variants to the safe range.
MAX_SAFE_INTEGER: Final = 2**53 - 1

_DEFAULT_VARIANTS: Final[Mapping[str, bool]] = {"true": True, "false": False}


def variant_kind(value: Any) -> VariantKind | None:
    """Return the schema type of a variant value, or None if no type allows it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, Mapping):
        return "object"
    return None


def _check_metadata(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    if metadata is None:
        return None
    bad = [
        key
        for key, value in metadata.items()
        if not isinstance(value, (str, bool, int, float))
        or (isinstance(value, float) and not math.isfinite(value))
    ]
    if bad:
        raise ValueError(
            f"metadata values must be strings, numbers or booleans; not so for {', '.join(bad)}"
        )
    return metadata


def _check_keys(mapping: dict[str, Any], what: str) -> dict[str, Any]:
    if "" in mapping:
        raise ValueError(f"{what} keys must not be empty")
    return mapping


class FlagdFlag(BaseModel):
    """One flag: its state, typed variants, default variant, targeting and metadata."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    state: Literal["ENABLED", "DISABLED"] = "ENABLED"
    variants: dict[str, Any] = Field(default_factory=lambda: dict(_DEFAULT_VARIANTS))
    default_variant: StrictStr | None = Field(default=None, alias="defaultVariant")
    targeting: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None

    @field_validator("variants")
    @classmethod
    def _variants_share_one_type(cls, variants: dict[str, Any]) -> dict[str, Any]:
        _check_keys(variants, "variant")
        if not variants:
            raise ValueError("a flag needs at least one variant")
        kinds: dict[VariantKind, list[str]] = {}
        for name, value in variants.items():
            kind = variant_kind(value)
            if kind is None:
                raise ValueError(
                    f"variant {name!r} must be a boolean, string, number or object, "
                    f"not {type(value).__name__}"
                )
            if kind == "number" and not _finite_safe_number(value):
                raise ValueError(
                    f"variant {name!r} must be finite and within +/-(2**53 - 1), got {value!r}"
                )
            kinds.setdefault(kind, []).append(name)
        if len(kinds) > 1:
            detail = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in kinds.items())
            raise ValueError(f"all variants of a flag must have one type, got {detail}")
        return variants

    @field_validator("default_variant")
    @classmethod
    def _default_names_a_variant(cls, default: str | None, info: ValidationInfo) -> str | None:
        variants = info.data.get("variants")
        # Without valid variants the variants field already carries the problem.
        if default is not None and variants is not None and default not in variants:
            names = ", ".join(sorted(variants))
            raise ValueError(f"defaultVariant {default!r} names no variant (variants: {names})")
        return default

    @field_validator("metadata")
    @classmethod
    def _metadata_values(cls, metadata: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_metadata(metadata)

    @property
    def kind(self) -> VariantKind:
        """Return the one type all this flag's variants share."""
        kind = variant_kind(next(iter(self.variants.values())))
        assert kind is not None  # guaranteed by validation
        return kind


def _finite_safe_number(value: int | float) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER


class FlagdDocument(BaseModel):
    """A whole flagd document: flags, shared ``$evaluators`` and flag-set metadata."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    schema_: str | None = Field(default=None, alias="$schema")
    flags: dict[str, FlagdFlag]
    evaluators: dict[str, Any] = Field(default_factory=dict, alias="$evaluators")
    metadata: dict[str, Any] | None = None

    @field_validator("flags")
    @classmethod
    def _flag_keys(cls, flags: dict[str, FlagdFlag]) -> dict[str, FlagdFlag]:
        return _check_keys(flags, "flag")

    @field_validator("evaluators")
    @classmethod
    def _evaluator_keys(cls, evaluators: dict[str, Any]) -> dict[str, Any]:
        return _check_keys(evaluators, "evaluator")

    @field_validator("metadata")
    @classmethod
    def _metadata_values(cls, metadata: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_metadata(metadata)


#: Pydantic reports field names; problems use the document's own spelling.
_ALIASES: Final = {"default_variant": "defaultVariant", "evaluators": "$evaluators"}


def _problems_from(error: ValidationError) -> list[Problem]:
    problems = []
    for detail in error.errors():
        parts = [_ALIASES.get(str(part), part) for part in detail["loc"]]
        message = detail["msg"].removeprefix("Value error, ")
        problems.append(Problem(tuple(parts), message))
    return problems


class PlainFlag:
    """A flag the quick check found valid: the fields ``FlagdFlag`` would hold, no model built."""

    __slots__ = ("default_variant", "metadata", "state", "variants")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.state: str = raw.get("state", "ENABLED")
        variants = raw.get("variants")
        self.variants: dict[str, Any] = dict(_DEFAULT_VARIANTS) if variants is None else variants
        self.default_variant: str | None = raw.get("defaultVariant")
        self.metadata: dict[str, Any] | None = raw.get("metadata")


def _plain_metadata(metadata: Any) -> bool:
    return metadata is None or (
        type(metadata) is dict
        and all(
            type(k) is str
            and (type(v) in (str, bool, int) or (type(v) is float and math.isfinite(v)))
            for k, v in metadata.items()
        )
    )


def _plain_variants(variants: Any) -> bool:
    if type(variants) is not dict or not variants:
        return False
    kinds = set()
    for name, value in variants.items():
        if type(name) is not str or not name:
            return False
        kind = type(value)
        if kind is int or kind is float:
            if not _finite_safe_number(value):
                return False
            kinds.add(int)
        elif kind in (bool, str, dict):
            kinds.add(kind)
        else:
            return False
    return len(kinds) == 1


def plain_flags(raw: Any) -> dict[str, PlainFlag] | None:
    """Return every flag of a plainly valid document without pydantic, or None.

    A quick check of the usual document (parsed JSON: plain dicts, lists and
    scalars) that accepts only what ``FlagdDocument`` accepts; anything
    unusual, valid or not, returns None and goes through the models, which
    report every problem. 10,000 flags are checked in a fraction of the time
    the models take, and build no model objects.
    """
    if type(raw) is not dict or not _plain_metadata(raw.get("metadata")):
        return None
    flags, evaluators = raw.get("flags"), raw.get("$evaluators", {})
    if type(flags) is not dict or type(evaluators) is not dict:
        return None
    schema = raw.get("$schema")
    if "" in flags or "" in evaluators or not (schema is None or type(schema) is str):
        return None
    plain: dict[str, PlainFlag] = {}
    for key, flag in flags.items():
        if type(key) is not str or type(flag) is not dict:
            return None
        variants = flag.get("variants", _DEFAULT_VARIANTS)
        default = flag.get("defaultVariant")
        targeting = flag.get("targeting")
        state = flag.get("state", "ENABLED")
        if (
            type(state) is not str
            or state not in ("ENABLED", "DISABLED")
            or not (variants is _DEFAULT_VARIANTS or _plain_variants(variants))
            or not (default is None or (type(default) is str and default in variants))
            or not (
                targeting is None
                or (type(targeting) is dict and all(type(k) is str for k in targeting))
            )
            or not _plain_metadata(flag.get("metadata"))
        ):
            return None
        plain[key] = PlainFlag(flag)
    return plain


def validate_flagd_document(raw: Any, *, source: str | None = None) -> FlagdDocument:
    """Validate a parsed flagd document, raising one error that lists every problem.

    ``raw`` is the document as parsed from JSON (or YAML); ``source`` names
    the file or URL in the error message. Targeting rules are validated by
    :mod:`flagkit.formats.flagd._compile` when it compiles them.
    """
    try:
        return FlagdDocument.model_validate(raw)
    except ValidationError as exc:
        raise definition_error(_problems_from(exc), source=source) from exc
