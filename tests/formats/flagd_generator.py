"""Random flagd documents and contexts for the differential test.

Documents use every operator, ``$ref``, ``fractional`` with and without a
bucketing expression (zero and unequal weights, nested variants), disabled
flags, missing or null default variants and number variants mixing ints and
floats; each case reads a flag with its own type's getter or, one time in
five, another type's. Seeded ``random.Random``: a run is reproducible from its
seed.
"""

from __future__ import annotations

import random
from typing import Any

STRINGS = ["ann@example.com", "bob@test.org", "carol@example.com", "x", "NL", "BE", "a", ""]
VERSIONS = ["1.0.0", "2.1.3", "1.2", "v3.0.0", "2.0.0-beta.1", "1", "not-a-version", "10.0.0"]
TAGS = ["a", "b", "beta", "gold"]
STRING_ATTRIBUTES = ["email", "country", "plan"]
NUMBER_ATTRIBUTES = ["age", "score"]
TYPES = ["boolean", "string", "integer", "float", "object"]
DEFAULTS = {"boolean": False, "string": "fallback", "integer": -1, "float": -1.5, "object": {}}


class Generator:
    """Builds documents, flags, rules and contexts from one random stream."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    # -- contexts ----------------------------------------------------------------

    def context(self) -> tuple[str | None, dict[str, Any]]:
        """Return a targeting key (or None) and attributes, each present or not."""
        r = self.random
        key = r.choice([None, "", *(f"user-{i}" for i in range(40))])
        attributes: dict[str, Any] = {}
        for name in STRING_ATTRIBUTES:
            attributes[name] = r.choice(STRINGS)
        for name in NUMBER_ATTRIBUTES:
            attributes[name] = r.choice([r.randint(0, 90), r.randint(0, 900) / 10])
        if r.random() < 0.5:
            attributes["maybe"] = r.choice(STRINGS)
        if r.random() < 0.8:
            attributes["version"] = r.choice(VERSIONS)
        if r.random() < 0.7:
            attributes["beta"] = r.random() < 0.5
        attributes["tags"] = r.sample(TAGS, r.randint(0, 3))
        attributes["nums"] = [r.randint(0, 20) for _ in range(r.randint(0, 4))]
        attributes["user"] = {"name": r.choice(STRINGS), "tier": r.choice(["gold", "free"])}
        return key, attributes

    # -- rules -------------------------------------------------------------------

    def string_value(self) -> Any:
        r = self.random
        choice = r.randrange(4)
        if choice == 0:
            return {"var": r.choice(STRING_ATTRIBUTES)}
        if choice == 1:
            return {"var": "user.name"}
        if choice == 2:
            return {"cat": [{"var": r.choice(STRING_ATTRIBUTES)}, r.choice(["-x", "@"])]}
        # Starts within the text: past its end Go returns the whole text (documented).
        return {"substr": [{"var": r.choice(STRING_ATTRIBUTES)}, r.randint(-1, 1)]}

    def number_value(self) -> Any:
        r = self.random
        choice = r.randrange(5)
        name = r.choice(NUMBER_ATTRIBUTES)
        if choice <= 1:
            return {"var": name}
        operator = r.choice(["+", "-", "*", "%", "min", "max"])
        if operator == "%":
            return {"%": [{"var": name}, r.randint(2, 7)]}
        return {operator: [{"var": name}, r.randint(1, 10)]}

    def condition(self, depth: int = 0) -> Any:
        """Return a rule that reads as true or false."""
        r = self.random
        choice = r.randrange(16 if depth < 2 else 12)
        if choice == 0:
            operator = r.choice(["==", "!=", "===", "!=="])
            subject = self.string_value() if r.random() < 0.7 else {"var": "maybe"}
            return {operator: [subject, r.choice(STRINGS)]}
        if choice == 1:
            operator = r.choice(["<", "<=", ">", ">="])
            return {operator: [self.number_value(), r.randint(0, 60)]}
        if choice == 2:
            low = r.randint(0, 40)
            return {r.choice(["<", "<="]): [low, {"var": r.choice(NUMBER_ATTRIBUTES)}, low + 30]}
        if choice == 3:
            return {"in": [{"var": r.choice(STRING_ATTRIBUTES)}, r.sample(STRINGS, 3)]}
        if choice == 4:
            return {"in": [r.choice(["@", "example", "NL"]), {"var": r.choice(STRING_ATTRIBUTES)}]}
        if choice == 5:
            operator = r.choice(["starts_with", "ends_with"])
            return {operator: [{"var": r.choice(STRING_ATTRIBUTES)}, r.choice(["a", "c", ".com"])]}
        if choice == 6:
            operator = r.choice(["=", "!=", "<", "<=", ">", ">=", "^", "~"])
            return {"sem_ver": [{"var": "version"}, operator, r.choice(VERSIONS[:6])]}
        if choice == 7:
            return {r.choice(["!", "!!"]): [{"var": r.choice(["beta", "email", "maybe"])}]}
        if choice == 8:
            return {"var": "beta"}
        if choice == 9:
            return {"$ref": r.choice(["is_staff", "is_adult"])}
        if choice == 10:
            if r.random() < 0.5:
                test: Any = {"in": [{"var": ""}, ["a", "b"]]}
                items = "tags"
            else:
                test, items = {">": [{"var": ""}, r.randint(0, 15)]}, "nums"
            return {r.choice(["some", "all", "none"]): [{"var": items}, test]}
        if choice == 11:
            absent = {r.choice(["missing", "missing_some"]): ["maybe", "version"]}
            if "missing_some" in absent:
                absent = {"missing_some": [1, ["maybe", "version"]]}
            return {"in": [r.choice(["maybe", "version"]), absent]}
        if choice == 12:
            return {r.choice(["and", "or"]): [self.condition(depth + 1) for _ in range(2)]}
        if choice == 13:
            return {"!": [self.condition(depth + 1)]}
        if choice == 14:
            return {"fractional": [[True, r.randint(0, 3)], [False, r.randint(0, 3)]]}
        return {"if": [self.condition(depth + 1), self.condition(depth + 1), False]}

    def weights(self, variants: list[Any]) -> list[list[Any]]:
        r = self.random
        buckets: list[list[Any]] = []
        for variant in variants:
            style = r.randrange(6)
            if style == 0:
                buckets.append([variant])  # weight 1
            elif style == 1:
                buckets.append([variant, 0])
            else:
                buckets.append([variant, r.choice([1, 5, 10, 25, 33, 50, 100])])
        return buckets

    def fractional(self, names: list[str]) -> Any:
        r = self.random
        picked = r.sample(names, min(len(names), r.randint(1, 3)))
        variants: list[Any] = list(picked)
        if r.random() < 0.15:
            variants[0] = {"if": [self.condition(1), picked[0], picked[-1]]}
        buckets = self.weights(variants)
        bucketing = r.randrange(4)
        if bucketing == 0:
            return {"fractional": buckets}
        if bucketing == 1:
            return {"fractional": [{"var": r.choice(["email", "user.name"])}, *buckets]}
        if bucketing == 2:
            value = {"cat": [{"var": "$flagd.flagKey"}, {"var": r.choice(STRING_ATTRIBUTES)}]}
            return {"fractional": [value, *buckets]}
        return {"fractional": [{"var": "targetingKey"}, *buckets]}

    def targeting(self, names: list[str], boolean: bool) -> Any:
        r = self.random
        choice = r.randrange(6)
        if choice == 0:
            return {}
        if choice == 1:
            return self.fractional(names)
        if choice == 2 and boolean:
            return self.condition()
        arms: list[Any] = []
        for _ in range(r.randint(1, 3)):
            arms += [
                self.condition(),
                r.choice(names) if r.random() < 0.85 else self.fractional(names),
            ]
        if r.random() < 0.7:
            arms.append(r.choice([*names, None]))
        return {"if": arms}

    # -- flags and documents -----------------------------------------------------

    def variants(self, kind: str) -> dict[str, Any]:
        r = self.random
        if kind == "boolean":
            return {"true": True, "false": False}
        if kind == "string":
            return {
                name: f"value-{name}" for name in r.sample(["a", "b", "c", "d"], r.randint(2, 4))
            }
        if kind == "integer":
            return {name: r.randint(-5, 100) for name in ["a", "b", "c"]}
        if kind == "float":
            return {"a": 1, "b": 1.5, "c": r.choice([0.25, 2, 2.0])}
        return {"a": {"x": 1}, "b": {"x": 2, "y": [1, 2]}, "c": {}}

    def flag(self) -> tuple[str, dict[str, Any]]:
        """Return a flag's value kind and its definition."""
        r = self.random
        kind = r.choice(TYPES)
        variants = self.variants(kind)
        names = list(variants)
        flag: dict[str, Any] = {
            "state": "DISABLED" if r.random() < 0.1 else "ENABLED",
            "variants": variants,
        }
        default = r.randrange(10)
        if default < 8:
            flag["defaultVariant"] = r.choice(names)
        elif default == 8:
            flag["defaultVariant"] = None
        targeting = self.targeting(names, kind == "boolean")
        if targeting or r.random() < 0.5:
            flag["targeting"] = targeting
        return kind, flag

    def document(self, flags: int) -> tuple[dict[str, Any], dict[str, str]]:
        """Return a document of ``flags`` flags and each flag's value kind."""
        kinds: dict[str, str] = {}
        definitions: dict[str, Any] = {}
        for i in range(flags):
            kind, flag = self.flag()
            key = f"flag-{i}"
            kinds[key] = kind
            definitions[key] = flag
        document = {
            "$evaluators": {
                "is_staff": {"ends_with": [{"var": "email"}, "@example.com"]},
                "is_adult": {">=": [{"var": "age"}, 18]},
            },
            "flags": definitions,
        }
        return document, kinds

    def cases(self, kinds: dict[str, str], count: int) -> list[dict[str, Any]]:
        """Return ``count`` evaluations over the document's flags (and a missing one)."""
        r = self.random
        keys = [*kinds, "missing-flag"]
        cases = []
        for _ in range(count):
            key = r.choice(keys)
            kind = kinds.get(key, "string")
            if r.random() < 0.2:
                kind = r.choice(TYPES)
            targeting_key, attributes = self.context()
            cases.append(
                {
                    "flag": key,
                    "type": kind,
                    "default": DEFAULTS[kind],
                    "targetingKey": targeting_key,
                    "attributes": attributes,
                }
            )
        return cases
