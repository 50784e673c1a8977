"""Per-flag isolation when serving a flagd document; ``flagkit validate`` stays strict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import flagkit
from flagkit import ErrorCode, Reason
from flagkit._cli import main
from tests.helpers import wait_until

GOOD = {"variants": {"on": "on", "off": "off"}, "defaultVariant": "on"}

DOCUMENT: dict[str, Any] = {
    "$evaluators": {"is_me": {"==": [{"var": "who"}, "me"]}},
    "flags": {
        "good": GOOD,
        "good-ref": {**GOOD, "targeting": {"if": [{"$ref": "is_me"}, "off", "on"]}},
        "unknown-operator": {**GOOD, "targeting": {"invalid": [1, 2]}},
        "missing-ref": {**GOOD, "targeting": {"if": [{"$ref": "nobody"}, "off", "on"]}},
        "array-variant": {"variants": {"a": [1]}, "defaultVariant": "a"},
        "default-names-nothing": {"variants": {"a": "a"}, "defaultVariant": "b"},
        "targeting-not-object": {**GOOD, "targeting": "on"},
    },
}
BROKEN = (
    "array-variant",
    "default-names-nothing",
    "missing-ref",
    "targeting-not-object",
    "unknown-operator",
)
LOCATIONS = {
    "flags.array-variant.variants",
    "flags.default-names-nothing.defaultVariant",
    "flags.missing-ref.targeting.if[0].$ref",
    "flags.targeting-not-object.targeting",
    "flags.unknown-operator.targeting",
}


def _located(problems: tuple[flagkit.Problem, ...]) -> set[str]:
    return {".".join(str(part) for part in p.path).replace(".0.", "[0].") for p in problems}


def test_every_good_flag_is_served_and_each_bad_one_is_a_parse_error() -> None:
    """The good flags resolve as flagd resolves them; each broken one is ERROR/PARSE_ERROR."""
    client = flagkit.Client.from_dict(DOCUMENT, format="flagd")
    assert "on" == client.get_str("good", "x")
    assert "off" == client.get_str("good-ref", "x", {"who": "me"})
    for key in BROKEN:
        for getter in ("get_str_details", "get_bool_details", "get_object_details"):
            details = getattr(client, getter)(key, "mine")
            assert ("mine", Reason.ERROR, ErrorCode.PARSE_ERROR) == (
                details.value,
                details.reason,
                details.error_code,
            ), (key, getter)
            assert key in (details.error_message or "")


def test_status_and_on_error_name_the_refused_flags_with_locations(tmp_path: Path) -> None:
    """Every load names the refused flags, each problem located, in status() and on_error."""
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(DOCUMENT))
    errors: list[Exception] = []
    with flagkit.Client.from_file(path, format="flagd", watch=True, interval=0.02) as client:
        client.on_error(errors.append)
        status = client.status()
        assert BROKEN == status.refused
        assert LOCATIONS == _located(status.problems)
        assert all(str(path) in str(p) for p in status.problems)
        changed = json.loads(json.dumps(DOCUMENT))
        changed["flags"]["good"]["defaultVariant"] = "off"
        path.write_text(json.dumps(changed))
        assert wait_until(lambda: client.get_str("good", "x") == "off")
        assert wait_until(lambda: bool(errors))
    error = errors[-1]
    assert isinstance(error, flagkit.RefusedFlagsError)
    assert BROKEN == error.refused
    assert LOCATIONS == _located(error.problems)


def test_a_flag_broken_by_a_reload_keeps_its_last_good_definition() -> None:
    """A flag that breaks keeps serving its last good definition; a new broken one errors."""
    source = flagkit.MemorySource(
        {"flags": {"a": GOOD, "b": GOOD}}, format="flagd"
    )  # both good at first
    client = flagkit.Client(source)
    source.update(
        {
            "flags": {
                "a": {**GOOD, "targeting": {"nope": []}},
                "b": {**GOOD, "defaultVariant": "off"},
                "c": {**GOOD, "targeting": {"nope": []}},
            }
        }
    )
    assert ("on", "off") == (client.get_str("a", "x"), client.get_str("b", "x"))
    assert ErrorCode.PARSE_ERROR == client.get_str_details("c", "x").error_code
    status = client.status()
    assert (("a", "c"), frozenset({"a"})) == (status.refused, client.snapshot.kept)


def test_native_and_flagd_documents_follow_one_rule() -> None:
    """The same mistakes in the two formats refuse the same flags, with the same outcome."""
    native = flagkit.Client.from_dict(
        {
            "flags": {
                "good": {"variants": {"on": "on", "off": "off"}, "default": "on"},
                "bad": {"variants": {"on": "on"}, "default": "nope"},
            }
        }
    )
    flagd = flagkit.Client.from_dict(
        {"flags": {"good": GOOD, "bad": {"variants": {"on": "on"}, "defaultVariant": "nope"}}},
        format="flagd",
    )
    for client in (native, flagd):
        assert "on" == client.get_str("good", "x")
        bad = client.get_str_details("bad", "x")
        assert ("x", Reason.ERROR, ErrorCode.PARSE_ERROR) == (bad.value, bad.reason, bad.error_code)
        assert ("bad",) == client.status().refused


@pytest.mark.parametrize("document", [{"flags": []}, {"flags": {"a": GOOD}, "metadata": [1]}])
def test_a_problem_outside_every_flag_refuses_the_document(document: dict[str, Any]) -> None:
    """The document's own shape is not a flag's problem: the whole document is refused."""
    with pytest.raises(flagkit.DefinitionError):
        flagkit.Client.from_dict(document, format="flagd")


def test_validate_stays_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``flagkit validate`` exits 1 and lists every problem of the document."""
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(DOCUMENT))
    assert 1 == main(["validate", "--format", "flagd", str(path)])
    lines = capsys.readouterr().err.splitlines()
    assert {f"flag {key!r}" for key in BROKEN} <= {line.split(": ")[1] for line in lines}
