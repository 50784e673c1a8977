"""Loading: one model from JSON, TOML and YAML, with bounded, safe parsing."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import flagkit
from flagkit import DefinitionError, SourceError
from flagkit._definitions.parse import MAX_DOCUMENT_BYTES, read_bytes

JSON_DOC = {
    "flags": {
        "f": {
            "variants": {"on": True, "off": False},
            "rules": [
                {"when": [{"attribute": "plan", "op": "equals", "value": "pro"}], "serve": "on"}
            ],
            "default": {"rollout": {"weights": {"on": 25, "off": 75}}},
        }
    }
}
TOML_DOC = """
[flags.f]
variants = { on = true, off = false }
default = { rollout = { weights = { on = 25, off = 75 } } }

[[flags.f.rules]]
serve = "on"
when = [{ attribute = "plan", op = "equals", value = "pro" }]
"""
YAML_DOC = """
flags:
  f:
    variants: {on: true, off: false}
    rules:
      - when: [{attribute: plan, op: equals, value: pro}]
        serve: on
    default:
      rollout:
        weights: {on: 25, off: 75}
"""


def _results(client: flagkit.Client) -> list[object]:
    contexts = [
        {"targetingKey": f"u{i}", "plan": "pro" if i % 3 == 0 else "free"} for i in range(300)
    ]
    return [client.get_details("f", None, c) for c in contexts]


def test_three_formats_give_one_model(tmp_path: Path) -> None:
    """The same flags in JSON, TOML and YAML evaluate identically."""
    (tmp_path / "f.json").write_text(json.dumps(JSON_DOC))
    (tmp_path / "f.toml").write_text(TOML_DOC)
    (tmp_path / "f.yaml").write_text(YAML_DOC)
    results = [
        _results(flagkit.Client.from_file(tmp_path / name))
        for name in ("f.json", "f.toml", "f.yaml")
    ]
    assert results[0] == results[1] == results[2]


def test_yaml_on_and_off_are_names_not_booleans(tmp_path: Path) -> None:
    """YAML 1.1's on/off/yes/no stay strings; true/false stay booleans."""
    (tmp_path / "f.yml").write_text(
        "flags:\n  f:\n    variants: {on: yes, off: no}\n    default: on\n"
    )
    client = flagkit.Client.from_file(tmp_path / "f.yml")
    assert client.get_str("f", "?", {}) == "yes"


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    """Python object tags in YAML are refused, not executed."""
    (tmp_path / "f.yaml").write_text("flags: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(DefinitionError, match="not valid YAML"):
        flagkit.Client.from_file(tmp_path / "f.yaml")


@pytest.mark.parametrize(
    ("name", "body"),
    [("f.json", "{not json"), ("f.toml", "flags = [unclosed"), ("f.yaml", "flags: [unclosed")],
)
def test_syntax_errors_name_the_file(tmp_path: Path, name: str, body: str) -> None:
    """A syntax error is a DefinitionError naming the file."""
    (tmp_path / name).write_text(body)
    with pytest.raises(DefinitionError) as info:
        flagkit.Client.from_file(tmp_path / name)
    assert str(tmp_path / name) in str(info.value)


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    """An unknown suffix or an unreadable file is a SourceError, not a crash."""
    (tmp_path / "flags.txt").write_text("{}")
    with pytest.raises(SourceError, match="cannot tell the syntax"):
        flagkit.Client.from_file(tmp_path / "flags.txt")
    assert flagkit.Client.from_file(tmp_path / "flags.txt", syntax="json").flag_keys() == []
    with pytest.raises(SourceError, match="cannot read"):
        flagkit.Client.from_file(tmp_path / "absent.json")


def test_oversized_files_are_refused(tmp_path: Path) -> None:
    """A file over the size cap is refused before it is parsed."""
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_DOCUMENT_BYTES + 10)
    with pytest.raises(SourceError, match="larger than"):
        flagkit.Client.from_file(path)


def test_schema_describes_the_format() -> None:
    """The JSON Schema names every operator and validates the example structure."""
    schema = flagkit.json_schema()
    operators = schema["$defs"]["Condition"]["properties"]["op"]["enum"]
    assert "semver_gte" in operators
    assert "in_segment" in operators
    assert schema["$schema"].endswith("2020-12/schema")


def test_deeply_nested_file_is_a_definition_error(tmp_path: Path) -> None:
    """A document nested deeper than the parser allows is a DefinitionError, not a crash."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(flagkit.DefinitionError):
        flagkit.Client.from_file(path)


def _finishes(call: Callable[[], object], timeout: float = 60.0) -> BaseException | None:
    """Run ``call`` in a daemon thread; return what it raised, failing if it never returns.

    A read that blocks (a FIFO without a writer) would hang the test run;
    the generous timeout only turns such a regression into a failure.
    """
    raised: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the test, which asserts on it
            raised.append(exc)
        else:
            raised.append(None)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), "the call blocked"
    return raised[0]


def test_a_fifo_at_the_flag_path_is_refused_without_blocking(tmp_path: Path) -> None:
    """validate, load and the file source refuse a FIFO at once: it has no writer, never ends."""
    path = tmp_path / "flags.json"
    os.mkfifo(path)
    for call in (
        lambda: flagkit.Client.from_file(path),
        lambda: flagkit.FileSource(path, watch=False),
        lambda: read_bytes(path),
    ):
        error = _finishes(call)
        assert isinstance(error, SourceError)
        assert f"{path}: not a regular file; refused" == str(error)


def test_a_directory_at_the_flag_path_is_refused(tmp_path: Path) -> None:
    """Any non-regular file is refused by name, a directory included."""
    with pytest.raises(SourceError, match="not a regular file"):
        read_bytes(tmp_path)
