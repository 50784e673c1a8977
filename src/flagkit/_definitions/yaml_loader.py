"""Safe, bounded YAML: budgets checked while the document is composed, duplicate keys found.

PyYAML shares the node an alias points to, so ``a: &x [...]`` repeated
through ``*x`` costs nothing to *compose*; everything that later walks the
data (validation, compilation) pays for the expanded tree, which a few
lines can make astronomically large (10^9 nodes in a dozen lines). The
``FlagLoader`` composer therefore computes, for every node as it is
composed, its expanded size and height, and refuses the document as soon as
a node exceeds ``MAX_NODES`` or ``MAX_DEPTH``, or the document has more
than ``MAX_ALIASES`` aliases: before any Python object is constructed.

It also reads booleans as YAML 1.2 does (``on``/``off``/``yes``/``no`` are
strings: in a flag file they are far more often variant names), and lists
every key that a mapping repeats, with its path and line, since PyYAML
silently keeps the last.
"""

from __future__ import annotations

import re
from typing import Any

from flagkit._definitions import limits
from flagkit._errors import DefinitionError, Problem

__all__ = ["load_yaml"]

_LOADER: Any = None


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML text into plain data; raise DefinitionError over a budget or on duplicate keys.

    Raise ``ValueError`` for malformed YAML (the caller words it).
    """
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - the test extra installs PyYAML
        from flagkit._errors import SourceError

        raise SourceError("YAML flag files need PyYAML: pip install 'flagkit[yaml]'") from exc
    loader = _loader_class(yaml)(text, source)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc
    finally:
        loader.dispose()
    if loader.duplicates:
        raise DefinitionError(loader.duplicates, source)
    return data


def _loader_class(yaml: Any) -> Any:
    """Build the loader class once (PyYAML is imported only by those who use YAML)."""
    global _LOADER
    if _LOADER is not None:
        return _LOADER

    class FlagLoader(yaml.SafeLoader):  # type: ignore[misc]
        def __init__(self, stream: str, source: str) -> None:
            super().__init__(stream)
            self.source = source
            self.aliases = 0
            self.depth = 0
            self.path: list[str | int] = []
            self.duplicates: list[Problem] = []

        def over(self, what: str, limit: int) -> DefinitionError:
            return limits.over_limit(what, limit, self.source)

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > limits.MAX_ALIASES:
                    raise self.over("YAML aliases", limits.MAX_ALIASES)
                node = super().compose_node(parent, index)
                height = getattr(node, "flagkit_height", None)
                if height is None:  # an alias to a node that is still being composed
                    raise DefinitionError(
                        [Problem(tuple(self.path), "a recursive YAML alias; refused", self.source)],
                        self.source,
                    )
                if self.depth + height > limits.MAX_DEPTH:
                    raise self.over("levels of nesting", limits.MAX_DEPTH)
                return node
            collection = not self.check_event(yaml.ScalarEvent)
            self.depth += collection
            if self.depth > limits.MAX_DEPTH:
                raise self.over("levels of nesting", limits.MAX_DEPTH)
            self.path.append(index.value if isinstance(index, yaml.Node) else index)
            try:
                node = super().compose_node(parent, index)
            finally:
                self.path.pop()
                self.depth -= collection
            children = _children(yaml, node)
            node.flagkit_size = 1 + sum(child.flagkit_size for child in children)
            node.flagkit_height = collection + max(
                (child.flagkit_height for child in children), default=0
            )
            if node.flagkit_size > limits.MAX_NODES:
                raise self.over("values once YAML aliases are expanded", limits.MAX_NODES)
            return node

        def compose_mapping_node(self, anchor: Any) -> Any:
            node = super().compose_mapping_node(anchor)
            seen: set[tuple[str, str]] = set()
            for key, _ in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                    continue
                if (key.tag, key.value) in seen:
                    where = (*(part for part in self.path if part is not None), key.value)
                    self.duplicates.append(
                        Problem(
                            tuple(where),
                            f"duplicate key {key.value!r} (line {key.start_mark.line + 1}); "
                            "each key may appear once",
                            self.source,
                        )
                    )
                seen.add((key.tag, key.value))
            return node

    FlagLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    FlagLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    _LOADER = FlagLoader
    return _LOADER


def _children(yaml: Any, node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
