"""Keys a JSON object repeats: JSON parsers keep the last one silently.

A duplicated flag key (or field) is a real authoring mistake, so a
document that repeats a key is refused with each repetition located. TOML
parsers refuse repeats themselves; YAML's are found while it is composed
(``yaml_loader``).

Finding them exactly needs a Python call per JSON object, so a cheap test
comes first: every key-value pair of a JSON text is one ``:`` outside a
string. Re-encoding the parsed data (in C) writes each surviving pair once
and every surviving string as it was read; if the text has no escaped
colon (``\\u003a``), the two colon counts are equal exactly when no pair
was dropped. Only when they differ is the text parsed again, recording
where each repeat is.
"""

from __future__ import annotations

import json
from typing import Any

from flagkit._errors import Problem
from flagkit._types import FieldPath

__all__ = ["json_duplicates", "may_repeat_keys"]


def may_repeat_keys(text: bytes | str, parsed: Any) -> bool:
    """Return False when the JSON ``text`` certainly repeats no key (``parsed`` is its data)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if b"\\u003" in raw or b"\\U003" in raw:
        return True  # an escaped colon (or digit): the count would not be exact
    import msgspec  # with the first JSON document, not with ``import flagkit``

    try:
        encoded = msgspec.json.encode(parsed)
    except (TypeError, ValueError, OverflowError):
        return True  # a value msgspec cannot write (a lone surrogate, a huge integer)
    return raw.count(b":") != encoded.count(b":")


class _Repeated(dict[str, Any]):
    """An object whose text repeated keys (``repeated`` names them, in order)."""

    repeated: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    marked = _Repeated(obj)
    marked.repeated = [key for key, _ in pairs if key in seen or seen.add(key)]  # type: ignore[func-returns-value]
    return marked


def _repeated(path: FieldPath, key: str) -> str:
    """Say what is repeated: a flag, a segment, or a key of some object."""
    if path in (("flags",), ("segments",)):
        kind = "flag" if path == ("flags",) else "segment"
        return f"the {kind} {key!r} is defined more than once (JSON keeps only the last)"
    return f"duplicate key {key!r}; each key may appear once (JSON keeps only the last)"


def json_duplicates(
    text: bytes | str, parsed: Any, source: str | None, *, prefix: FieldPath = ()
) -> list[Problem]:
    """Return one located problem per key a JSON object of ``text`` repeats."""
    if not may_repeat_keys(text, parsed):
        return []
    problems: list[Problem] = []
    stack: list[tuple[Any, FieldPath]] = [(json.loads(text, object_pairs_hook=_pairs), prefix)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key in getattr(node, "repeated", ()):
                problems.append(Problem((*path, key), _repeated(path, key), source))
            stack.extend((value, (*path, key)) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, (*path, i)) for i, value in enumerate(node))
    problems.sort(key=lambda problem: [str(part) for part in problem.path])
    return problems
