"""The examples in README.md and docs/*.md are run, so the documentation cannot drift.

Every fenced ```python block runs in a fresh namespace, in a fresh directory
holding only what a user has after ``pip install flagkit`` and ``flagkit
init`` (the starter ``flags.yaml``, and ``flagd.json`` from ``flagkit init
--format flagd``): no block may lean on the repository checkout. Blocks
assert what the text claims. The README's example runs exactly as printed,
beside the YAML it shows, and must print the output it shows. Every
```yaml / ```json / ```toml block that is a whole flag document (a mapping
with a top-level ``flags`` key) must load, validate and compile. A block is
left out when the line before its fence (blank lines aside) is
``<!-- not-tested -->``, e.g. a deliberately invalid document. New pages
are covered as soon as they are added to docs/.

``test_examples_run_from_an_installed_wheel`` does it all again from a
wheel built from this tree and installed apart from the checkout, with the
installed ``flagkit init`` writing the starter files (see ``wheel.py``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flagkit._cli.init import STARTERS, starter_text
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


def starter_files(folder: Path) -> None:
    """Write what ``flagkit init`` and ``flagkit init --format flagd`` write."""
    for fmt, name in STARTERS.items():
        (folder / name).write_text(starter_text(fmt), "utf-8")


def readme_example() -> tuple[Block, Block, Block]:
    """Return the README's example: the YAML it shows, the Python, and the output it shows."""
    blocks = [b for b in BLOCKS if b.page == "README.md"]
    yaml_block = next(b for b in blocks if b.lang == "yaml")
    python_block = next(b for b in blocks if b.lang == "python")
    output_block = next(b for b in blocks if b.lang == "text")
    assert yaml_block.line < python_block.line < output_block.line
    return yaml_block, python_block, output_block


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.id)
def test_python_example_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python example runs to the end in a fresh namespace and directory, its asserts holding."""
    starter_files(tmp_path)
    if block.page == "README.md":  # the README's example reads the YAML it shows
        (tmp_path / "flags.yaml").write_text(readme_example()[0].code, "utf-8")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    exec(compile(block.code, block.id, "exec"), namespace)


def test_readme_example_prints_what_the_readme_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Saved as shown and run as printed, the README's example prints the README's output."""
    yaml_block, python_block, output_block = readme_example()
    (tmp_path / "flags.yaml").write_text(yaml_block.code, "utf-8")
    done = subprocess.run(
        [sys.executable, "-c", python_block.code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (0, output_block.code) == (done.returncode, done.stdout), done.stderr


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
