"""Parsing is bounded and exact: caps on size and shape, and no silently dropped key."""

from __future__ import annotations

import json
from typing import Any

import pytest

import flagkit
from flagkit import DefinitionError
from flagkit._definitions import limits
from flagkit._definitions.duplicates import json_duplicates, may_repeat_keys
from flagkit._definitions.parse import parse_bytes
from flagkit._sources.pipeline import snapshot_from_bytes

BOOL = {"on": True, "off": False}
FLAG = '{"variants": {"on": true, "off": false}, "default": "off"}'


def _problems(data: str | bytes, syntax: Any = "json", **options: Any) -> list[str]:
    """Return the problems of refusing the whole document (as ``flagkit validate`` does)."""
    with pytest.raises(DefinitionError) as info:
        snapshot_from_bytes(data, syntax, origin="flags.doc", isolate=False, **options)
    return [str(problem) for problem in info.value.problems]


def test_a_flag_defined_twice_in_json_is_a_located_problem() -> None:
    """The fast path sees the repeat and the models locate it."""
    text = f'{{"flags": {{"a": {FLAG}, "b": {FLAG}, "a": {FLAG}}}}}'
    assert [
        "flags.doc: flag 'a': the flag 'a' is defined more than once (JSON keeps only the last)"
    ] == (_problems(text))


def test_repeated_segment_and_envelope_keys_are_located() -> None:
    """Segments and the envelope's own fields are checked the same way."""
    segments = '"segments": {"s": {}, "s": {}}'
    text = f'{{{segments}, "version": 1, "version": 1, "flags": {{"a": {FLAG}}}}}'
    kept = "(JSON keeps only the last)"
    assert [
        f"flags.doc: segments.s: the segment 's' is defined more than once {kept}",
        f"flags.doc: version: duplicate key 'version'; each key may appear once {kept}",
    ] == _problems(text)


def test_a_key_repeated_inside_a_flag_is_located_when_the_models_read_it() -> None:
    """Through the models (tools, a lenient or a flagd document), every level is checked."""
    text = '{"flags": {"a": {"variants": {"on": true, "on": false}, "default": "on"}}}'
    assert [
        "flags.doc: flag 'a': variants.on: duplicate key 'on'; each key may appear once "
        "(JSON keeps only the last)"
    ] == _problems(text, keep_definitions=True)


def test_a_flagd_document_with_a_repeated_flag_is_refused() -> None:
    """flagd documents are JSON too: the same check, the same message."""
    flag = '{"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "on"}'
    text = f'{{"flags": {{"x": {flag}, "x": {flag}}}}}'
    assert [
        "flags.doc: flag 'x': the flag 'x' is defined more than once (JSON keeps only the last)"
    ] == (_problems(text, format="flagd"))


def test_repeated_yaml_keys_are_located_with_their_line() -> None:
    """PyYAML keeps the last silently; the loader lists every repeat."""
    text = "flags:\n  a:\n    variants: {on: true, off: false}\n    default: on\n    default: off\n"
    assert [
        "flags.doc: flag 'a': default: duplicate key 'default' (line 5); each key may appear once"
    ] == _problems(text, "yaml")


def test_colons_inside_strings_and_keys_do_not_look_like_repeats() -> None:
    """The colon count tells repeats from colons in text; an escaped colon is checked exactly."""
    plain = {"flags": {"a:b": {"variants": {"x:1": "http://x"}, "default": "x:1"}}}
    assert not may_repeat_keys(json.dumps(plain), plain)
    escaped = '{"flags": {"a\\u003ab": {"variants": {"on": true}, "default": "on"}}}'
    assert may_repeat_keys(escaped, json.loads(escaped))
    assert ["a:b"] == list(snapshot_from_bytes(escaped, "json").flags)


def test_a_yaml_alias_bomb_is_refused_while_composing() -> None:
    """Nine levels of ten aliases expand to 10^9 values: refused before anything is built."""
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    lines.append("flags: {}")
    problems = _problems("\n".join(lines), "yaml")
    assert [
        f"flags.doc: (document): more than {limits.MAX_NODES:,} values once YAML aliases are "
        "expanded; refused (see docs/format.md, Limits)"
    ] == problems


def test_too_many_yaml_aliases_are_refused() -> None:
    """Each alias costs a little even when small: their number is capped too."""
    refs = ", ".join(["*x"] * (limits.MAX_ALIASES + 1))
    text = f"x: &x 1\nflags: {{}}\nmany: [{refs}]\n"
    assert [
        f"flags.doc: (document): more than {limits.MAX_ALIASES:,} YAML aliases; refused "
        "(see docs/format.md, Limits)"
    ] == _problems(text, "yaml")


@pytest.mark.parametrize(
    ("text", "syntax"),
    [
        ("[" * 70 + "]" * 70, "yaml"),
        ("x = " + "[" * 70 + "]" * 70, "toml"),
    ],
)
def test_nesting_deeper_than_the_cap_is_refused(text: str, syntax: Any) -> None:
    """YAML while composing, TOML after parsing: the same cap on nesting."""
    assert [
        f"flags.doc: (document): more than {limits.MAX_DEPTH:,} levels of nesting; refused "
        "(see docs/format.md, Limits)"
    ] == _problems(text, syntax)


def test_a_yaml_alias_that_deepens_past_the_cap_is_refused() -> None:
    """An alias counts as the nesting it repeats, wherever it is placed."""
    deep = "[" * 40 + "1" + "]" * 40
    text = f"x: &x {deep}\ny: {'[' * 30}*x{']' * 30}\n"
    assert "levels of nesting" in _problems(text, "yaml")[0]


def test_a_json_text_within_the_size_cap_but_over_the_node_cap_is_refused() -> None:
    """Tiny values in a huge list: the punctuation count gives it away, a walk confirms."""
    thousand = "[" + ",".join(["0"] * 1000) + "]"
    text = '{"flags": {}, "pad": [' + ",".join([thousand] * (limits.MAX_NODES // 1000 + 1)) + "]}"
    assert [
        f"flags.doc: (document): more than {limits.MAX_NODES:,} values; refused "
        "(see docs/format.md, Limits)"
    ] == _problems(text)


def test_a_condition_with_too_many_operands_is_a_located_problem() -> None:
    """Operands per condition are capped (an allow-list belongs in a segment or a service)."""
    many = [f"u{i}" for i in range(limits.MAX_OPERANDS + 1)]
    flag = {
        "variants": BOOL,
        "default": "off",
        "rules": [{"when": [{"attribute": "id", "op": "in", "values": many}], "serve": "on"}],
    }
    assert [
        f"flags.doc: flag 'a': rules[0].when[0].values: more than {limits.MAX_OPERANDS:,} "
        "operands; refused (see Limits)"
    ] == _problems(json.dumps({"flags": {"a": flag}}))


def test_documents_within_the_caps_still_load() -> None:
    """Aliases, nesting and repeats in moderation are fine."""
    text = (
        "flags:\n  a: {variants: &on {on: true, off: false}, default: on}\n"
        "  b: {variants: *on, default: off}\n"
    )
    client = flagkit.Client(snapshot_from_bytes(text, "yaml"))
    assert (True, False) == (client.get_bool("a", False), client.get_bool("b", True))
    assert {"a": [[1]]} == parse_bytes('{"a": [[1]]}', "json")


def test_a_value_the_fast_count_cannot_write_falls_back_to_the_exact_search() -> None:
    """A lone surrogate in the data: msgspec cannot write it, so the exact search decides."""
    text = '{"a": "\\ud800", "a": 1}'
    assert may_repeat_keys(text, json.loads(text))
    assert ["doc: a: duplicate key 'a'; each key may appear once (JSON keeps only the last)"] == [
        str(p) for p in json_duplicates(text, json.loads(text), "doc")
    ]
