"""Typed getters, details, all-flags, and never raising."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

import pytest

import flagkit
from flagkit import ErrorCode, ExposureEvent, Reason
from tests.hostile import Liar, torture

BOOL = {"on": True, "off": False}
EXPERIMENT = {"flags": {"exp": {"kind": "experiment", "variants": BOOL, "default": "on"}}}


def test_typed_getters_return_values(example_client: flagkit.Client) -> None:
    """Each typed getter returns the flag's value for its type."""
    ctx = {"targetingKey": "user-1", "country": "NL", "plan": "pro"}
    assert example_client.get_bool("beta-banner", False, ctx) is True
    assert example_client.get_str("api-backend", "?", ctx) == "blue"
    assert example_client.get_object("checkout-theme", {}, ctx) == {
        "primary": "#0055aa",
        "rounded": False,
    }


def test_int_and_float_getters() -> None:
    """Int flags read as ints and (widened) floats; floats only as floats."""
    client = flagkit.Client.from_dict(
        {
            "flags": {
                "limit": {"variants": {"low": 10, "high": 100}, "default": "high"},
                "ratio": {"variants": {"a": 0.5}, "default": "a"},
            }
        }
    )
    assert client.get_int("limit", 0) == 100
    value = client.get_float("limit", 0.0)
    assert (100.0, float) == (value, type(value))
    assert client.get_float_details("limit", 0.0).value == 100.0
    assert type(client.get_float_details("limit", 0.0).value) is float
    assert client.get_float("ratio", 0.0) == 0.5
    assert client.get_int("ratio", 3) == 3


@pytest.mark.parametrize(
    "context", [["a", "list"], "a string", 42, object()], ids=["list", "str", "int", "object"]
)
def test_non_mapping_context_gives_the_default_everywhere(
    example_client: flagkit.Client, context: Any
) -> None:
    """A context that is not a mapping is INVALID_CONTEXT, even for flags that ignore context."""
    assert example_client.get_bool("kill-switch", True, context) is True
    details = example_client.get_bool_details("kill-switch", True, context)
    assert (True, Reason.ERROR, ErrorCode.INVALID_CONTEXT) == (
        details.value,
        details.reason,
        details.error_code,
    )


def test_type_mismatch_never_raises(example_client: flagkit.Client) -> None:
    """Asking a string flag for a bool returns the default with TYPE_MISMATCH."""
    assert example_client.get_bool("pricing-test", True, {"targetingKey": "u"}) is True
    details = example_client.get_int_details("pricing-test", 7, {"targetingKey": "u"})
    assert (7, ErrorCode.TYPE_MISMATCH) == (details.value, details.error_code)
    with pytest.raises(flagkit.EvaluationError, match="TYPE_MISMATCH"):
        details.raise_for_error()


def test_details_carry_rule_and_bucket(example_client: flagkit.Client) -> None:
    """Details name the matched rule, or the bucket of a rollout."""
    rule = example_client.get_bool_details("beta-banner", False, {"country": "BE", "plan": "pro"})
    split = example_client.get_str_details("pricing-test", "?", {"targetingKey": "user-1"})
    assert ("benelux-pro", None) == (rule.rule, rule.bucket)
    assert (None, flagkit.bucket_of("pricing-test", "user-1")) == (split.rule, split.bucket)
    assert split.raise_for_error() is split


def test_all_flags_for_one_context(example_client: flagkit.Client) -> None:
    """all_flags returns every flag's details for one context."""
    everything = example_client.all_flags(
        {"targetingKey": "user-1", "country": "NL", "plan": "pro"}
    )
    assert set(example_client.flag_keys()) == set(everything)
    assert everything["beta-banner"].value is True
    assert everything["kill-switch"].reason == Reason.DISABLED
    assert {k: d.to_dict()["value"] for k, d in everything.items()}["api-backend"] == "blue"
    broken = example_client.all_flags(["not", "a", "mapping"])  # type: ignore[arg-type]
    assert {ErrorCode.INVALID_CONTEXT} == {d.error_code for d in broken.values()}


def test_variant_of(example_client: flagkit.Client) -> None:
    """variant_of names the served variant, or None on a problem."""
    assert example_client.variant_of("beta-banner", {"country": "NL", "plan": "pro"}) == "on"
    assert example_client.variant_of("missing") is None


def test_empty_client_serves_defaults() -> None:
    """A client with no flags returns defaults with FLAG_NOT_FOUND."""
    client = flagkit.Client()
    assert client.get_str("anything", "fallback") == "fallback"
    assert client.get_details("anything", 1).error_code == ErrorCode.FLAG_NOT_FOUND
    assert client.status().flags == 0


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


def test_an_invalid_first_document_logs_no_claim_of_kept_flags(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client that cannot load its first document raises, and never logs "keeping" flags."""
    with (
        caplog.at_level(logging.ERROR, logger="flagkit"),
        pytest.raises(flagkit.DefinitionError),
    ):
        flagkit.Client.from_dict({"flags": {"f": {}}, "bogus": 1})
    messages = [r.getMessage() for r in caplog.records if r.name == "flagkit"]
    assert [] == [m for m in messages if "keeping the last good flags" in m]


def test_an_invalid_memory_update_raises_keeps_the_flags_and_tells_listeners(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """update() raises DefinitionError, the old flags serve, on_error hears it; nothing logged."""
    source = flagkit.MemorySource({"flags": {"f": {"variants": BOOL, "default": "on"}}})
    client = flagkit.Client(source)
    errors: list[Exception] = []
    client.on_error(errors.append)
    with (
        caplog.at_level(logging.ERROR, logger="flagkit"),
        pytest.raises(flagkit.DefinitionError) as raised,
    ):
        source.update({"flags": {"f": {"variants": BOOL, "default": "maybe"}}, "bogus": 1})
    assert True is client.get_bool("f", False)
    assert [raised.value] == errors
    assert [] == [r.getMessage() for r in caplog.records if r.name == "flagkit"]  # raised instead


class UnhashableName(str):
    """A str subclass whose hash raises."""

    __slots__ = ()

    def __hash__(self) -> int:
        raise RuntimeError("no hash for you")


class ClassRaises(dict[str, Any]):
    """A dict whose ``__class__`` lookup raises."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # type: ignore[override]
        raise RuntimeError("no class for you")


HOSTILE_KEYS = [None, 42, ["f"], b"f"]
HOSTILE_KEY_IDS = ["none", "int", "list", "bytes"]
SERVES_ON = {"flags": {"f": {"variants": BOOL, "default": "on"}}}


def _fast() -> flagkit.Client:
    client = flagkit.Client.from_dict(SERVES_ON)
    assert not client._observed
    return client


def _observed() -> flagkit.Client:
    client = flagkit.Client.from_dict(SERVES_ON, context={"app": "x"})
    assert client._observed
    return client


@pytest.mark.parametrize("make", [_fast, _observed], ids=["fast", "observed"])
@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=HOSTILE_KEY_IDS)
def test_a_hostile_flag_key_returns_the_default(make: Any, key: Any) -> None:
    """None, an int, a list or bytes: the default and FLAG_NOT_FOUND, never an exception."""
    client = make()
    details = client.get_bool_details(key, False)
    assert (False, False, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND) == (
        client.get_bool(key, False),
        details.value,
        details.reason,
        details.error_code,
    )
    assert f"<{type(key).__name__}>" == details.flag_key


@pytest.mark.parametrize("make", [_fast, _observed], ids=["fast", "observed"])
def test_a_str_subclass_key_names_a_flag_by_its_own_hash(make: Any) -> None:
    """As in any dict: a StrEnum finds its flag; a raising or lying hash finds none.

    Both paths agree, and report the key as the exact string it holds.
    """
    client = make()
    keys = [Plan.F, UnhashableName("f"), Liar("f"), torture(str, "raise", "f")]
    assert [True, False, False, False] == [client.get_bool(key, False) for key in keys]
    details = [client.get_bool_details(key, False) for key in keys]
    assert [
        ("f", None),
        ("f", ErrorCode.GENERAL),
        ("f", ErrorCode.FLAG_NOT_FOUND),
        ("f", ErrorCode.GENERAL),
    ] == [(d.flag_key, d.error_code) for d in details]
    assert all(type(d.flag_key) is str for d in details)


class Plan(StrEnum):
    """A StrEnum of flag keys, as applications write them."""

    F = "f"


@pytest.mark.parametrize("make", [_fast, _observed], ids=["fast", "observed"])
def test_a_context_whose_class_raises_returns_the_default(make: Any) -> None:
    """A context object whose __class__ property raises: the default, named, never raised."""
    client = make()
    hostile = ClassRaises(targetingKey="u1")
    details = client.get_bool_details("f", False, hostile)
    assert (False, False, ErrorCode.GENERAL) == (
        client.get_bool("f", False, hostile),
        details.value,
        details.error_code,
    )
    assert "RuntimeError: no class for you" == details.error_message
    assert True is client.get_bool("f", False)  # and the client still works
