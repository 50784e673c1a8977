"""Write the hostile-documents corpus beside this script: ``python tests/data/hostile/generate.py``.

Each document is small on disk and would be huge, deep, ambiguous or slow
once read naively (issue 17). ``tests/definitions/test_hostile_corpus.py``
loads every one in a subprocess under a memory limit and a generous
timeout, and expects a clear error naming the file. Regenerate after
changing this script; the documents are committed so that a change to them
shows in review.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOOL = "{on: true, off: false}"
DOCUMENTS: dict[str, Callable[[], str]] = {}


def document(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Register a function returning the text of the document ``name``."""

    def register(make: Callable[[], str]) -> Callable[[], str]:
        DOCUMENTS[name] = make
        return make

    return register


def _ladder(leaf: str, levels: int, width: int, prefix: str) -> list[str]:
    """Anchor ``levels`` lists, each ``width`` aliases of the one before: width**levels leaves."""
    lines = [f"  - &{prefix}0 [{', '.join([leaf] * width)}]"]
    for level in range(1, levels):
        lines.append(f"  - &{prefix}{level} [{', '.join([f'*{prefix}{level - 1}'] * width)}]")
    return lines


@document("alias-strings-in-a-variant.yaml")
def _alias_strings() -> str:
    # 10^10 strings through aliases inside an object variant.
    return "\n".join(
        [
            "flags:",
            "  f:",
            "    variants:",
            "      big:",
            "        payload:",
            *("      " + line for line in _ladder('"lol"', 10, 10, "s")),
            "    default: big",
        ]
    )


@document("alias-targeting-tree.flagd.yaml")
def _alias_targeting() -> str:
    # A flagd targeting tree of 10^9 nodes through aliases.
    return "\n".join(
        [
            "flags:",
            "  f:",
            "    state: ENABLED",
            f"    variants: {BOOL}",
            "    defaultVariant: off",
            "    targeting:",
            "      and:",
            *("      " + line for line in _ladder('{"==": [1, 1]}', 9, 10, "t")),
        ]
    )


@document("rules-sharing-one-huge-condition.yaml")
def _shared_condition() -> str:
    # 1,000 rules sharing one 6,000-operand condition: 6 * 10^6 operands expanded.
    operands = ", ".join(f"u{i}" for i in range(6_000))
    rules = [f"      - {{when: [&c {{attribute: id, op: in, values: [{operands}]}}], serve: on}}"]
    rules += ["      - {when: [*c], serve: on}"] * 999
    return "\n".join(
        ["flags:", "  f:", f"    variants: {BOOL}", "    default: off", "    rules:", *rules]
    )


@document("flags-through-aliases.yaml")
def _flags_through_aliases() -> str:
    # 5,100 flags, each an alias of one definition of 1,000 values: 5.1 million expanded.
    operands = ", ".join(f"u{i}" for i in range(990))
    first = (
        f"  f0: &d {{variants: {BOOL}, default: off, rules: "
        f"[{{when: [{{attribute: id, op: in, values: [{operands}]}}], serve: on}}]}}"
    )
    return "\n".join(["flags:", first, *(f"  f{i}: *d" for i in range(1, 5_100))])


@document("many-aliases.yaml")
def _many_aliases() -> str:
    # More aliases than the cap, each tiny.
    return "x: &x 1\nflags: {}\npad: [" + ", ".join(["*x"] * 12_000) + "]\n"


@document("recursive-alias.yaml")
def _recursive_alias() -> str:
    # A list that contains itself.
    return "flags:\n  f: &f [*f]\n"


@document("nested-deeply.json")
def _nested_json() -> str:
    return '{"flags": {}, "pad": ' + "[" * 10_000 + "]" * 10_000 + "}"


@document("nested-deeply.toml")
def _nested_toml() -> str:
    return "pad = " + "[" * 2_000 + "]" * 2_000 + "\n[flags]\n"


@document("nested-deeply.yaml")
def _nested_yaml() -> str:
    return "flags: {}\npad: " + "[" * 2_000 + "]" * 2_000 + "\n"


@document("a-flag-defined-twice.json")
def _twice() -> str:
    flag = '{"variants": {"on": true, "off": false}, "default": "off"}'
    return f'{{"flags": {{"f": {flag}, "g": {flag}, "f": {flag}}}}}'


@document("a-key-written-twice.yaml")
def _twice_yaml() -> str:
    return f"flags:\n  f:\n    variants: {BOOL}\n    default: on\n    default: off\n"


@document("a-flag-defined-twice.flagd.json")
def _twice_flagd() -> str:
    flag = '{"state": "ENABLED", "variants": {"on": true}, "defaultVariant": "on"}'
    return f'{{"flags": {{"f": {flag}, "f": {flag}}}}}'


@document("huge-repetition.json")
def _huge_repetition() -> str:
    condition = {"attribute": "a", "op": "matches", "value": "a{99999999999}"}
    flag = {
        "variants": {"on": True, "off": False},
        "default": "off",
        "rules": [{"when": [condition], "serve": "on"}],
    }
    return json.dumps({"flags": {"f": flag}})


#: Patterns that backtracked exponentially past the sampled proof (issue 17).
EVASIONS = [
    "(?i)(?:[\u0100-\u0200]*s)*$",
    "(?i)(?:[\u2100-\u2200]*k)*$",
    "(?:[\U0001f000-\U0010ffff]*\\w)*$",
    "(?:[^\\x00-\\uffff]*\\w)*$",
    "(?:[^\\x00-\\uffff]*\\d)*$",
]


@document("redos-evasions.json")
def _evasions() -> str:
    rules = [
        {"when": [{"attribute": "a", "op": "matches", "value": pattern}], "serve": "on"}
        for pattern in EVASIONS
    ]
    flag = {"variants": {"on": True, "off": False}, "default": "off", "rules": rules}
    return json.dumps({"flags": {"f": flag}})


def main() -> None:
    """Write every document (and remove those no longer generated)."""
    for stale in HERE.iterdir():
        generated = stale.suffix in {".json", ".yaml", ".toml"} and stale.is_file()
        if generated and stale.name not in DOCUMENTS:
            stale.unlink()
    for name, make in DOCUMENTS.items():
        (HERE / name).write_text(make() + ("" if make().endswith("\n") else "\n"))


if __name__ == "__main__":
    main()
