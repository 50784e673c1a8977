"""The examples in docs/*.md are run, so the documentation cannot drift from the code.

Every fenced ```python block runs in a fresh namespace with the repository
root as the working directory (blocks assert what the text claims). Every
```yaml / ```json / ```toml block that is a whole flag document (a mapping
with a top-level ``flags`` key) must load, validate and compile. A block is
left out when the line before its fence (blank lines aside) is
``<!-- not-tested -->``, e.g. a deliberately invalid document. New pages
are covered as soon as they are added to docs/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flagkit._definitions.parse import parse_bytes
from flagkit._errors import FlagkitError
from flagkit._sources.pipeline import snapshot_from_bytes
from flagkit._types import Syntax

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
OPT_OUT = "<!-- not-tested -->"
DOCUMENT_FORMATS: dict[str, Syntax] = {
    "json": "json",
    "toml": "toml",
    "yaml": "yaml",
    "yml": "yaml",
}
_FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown page."""

    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    opted_out: bool

    @property
    def id(self) -> str:
        """Return the test id, e.g. ``format.md:123``."""
        return f"{self.page}:{self.line}"


def extract_blocks(page: str, text: str) -> Iterator[Block]:
    """Yield the fenced code blocks of a Markdown text, in order."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index].lstrip())
        if opening is None:
            index += 1
            continue
        fence = opening["fence"]
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].lstrip().startswith(fence):
            body.append(lines[index])
            index += 1
        index += 1  # past the closing fence
        previous = next((line.strip() for line in reversed(lines[:start]) if line.strip()), "")
        yield Block(
            page=page,
            line=start + 1,
            lang=opening["lang"].lower(),
            code="\n".join(body) + "\n",
            opted_out=previous == OPT_OUT,
        )


def _all_blocks() -> list[Block]:
    blocks: list[Block] = []
    for path in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        blocks += extract_blocks(path.name, path.read_text("utf-8"))
    return [block for block in blocks if not block.opted_out]


def _is_flag_document(block: Block) -> bool:
    """Return True for a block meant as a whole document (or one that fails to parse)."""
    try:
        data = parse_bytes(block.code, DOCUMENT_FORMATS[block.lang], source=block.id)
    except FlagkitError:
        return True  # a block that does not even parse must fail its test, not vanish
    return isinstance(data, dict) and "flags" in data


BLOCKS = _all_blocks()
PYTHON_BLOCKS = [b for b in BLOCKS if b.lang == "python"]
DOCUMENT_BLOCKS = [b for b in BLOCKS if b.lang in DOCUMENT_FORMATS and _is_flag_document(b)]


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.id)
def test_python_example_runs(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python example runs to the end in a fresh namespace, its asserts holding."""
    monkeypatch.chdir(ROOT)
    namespace = {"__name__": "__docs__"}
    exec(compile(block.code, block.id, "exec"), namespace)


@pytest.mark.parametrize("block", DOCUMENT_BLOCKS, ids=lambda b: b.id)
def test_flag_document_example_is_valid(block: Block) -> None:
    """A flag document example loads, validates and compiles."""
    snapshot = snapshot_from_bytes(block.code, DOCUMENT_FORMATS[block.lang], origin=block.id)
    assert len(snapshot) > 0


@pytest.mark.parametrize(
    ("page", "python", "documents"), [("format.md", 10, 5), ("bucketing.md", 5, 1)]
)
def test_core_pages_have_checked_examples(page: str, python: int, documents: int) -> None:
    """The core reference pages keep their examples under test (the extractor finds them)."""
    assert sum(b.page == page for b in PYTHON_BLOCKS) >= python
    assert sum(b.page == page for b in DOCUMENT_BLOCKS) >= documents


def test_extractor_reads_fences_ids_and_opt_outs() -> None:
    """The extractor reports language, code and 1-based fence line, and honours opt-outs."""
    text = "\n".join(
        [
            "# Page",
            "```python",
            "x = 1",
            "```",
            "<!-- not-tested -->",
            "",
            "```yaml",
            "flags: {}",
            "```",
            "````text",
            "```python",
            "````",
        ]
    )
    blocks = list(extract_blocks("page.md", text))
    expected = [
        Block("page.md", 2, "python", "x = 1\n", opted_out=False),
        Block("page.md", 7, "yaml", "flags: {}\n", opted_out=True),
        Block("page.md", 10, "text", "```python\n", opted_out=False),
    ]
    assert expected == blocks
    assert "page.md:2" == blocks[0].id


def test_fragments_are_not_validated_as_documents() -> None:
    """A snippet without a top-level ``flags`` key is not treated as a whole document."""
    fragment = Block("page.md", 1, "yaml", "weights: {on: 10, off: 90}\n", opted_out=False)
    document = Block("page.md", 1, "json", '{"flags": {}}', opted_out=False)
    broken = Block("page.md", 1, "toml", "flags = [\n", opted_out=False)
    assert [False, True, True] == [_is_flag_document(b) for b in (fragment, document, broken)]
