"""Every hostile document is refused clearly, in bounded time and memory.

Each document of ``tests/data/hostile/`` (written by ``generate.py`` there)
is loaded in a subprocess whose address space is limited with
``resource.setrlimit``, under a generous timeout: a document that made
loading explode (memory) or hang (time) fails the test instead of the
machine. The subprocess must exit normally with a ``FlagkitError`` whose
message names the file, or, where the harm is confined to some flags, with
those flags refused (isolated) and each problem naming the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"
DOCUMENTS = sorted(path for path in HOSTILE.iterdir() if path.suffix in {".json", ".yaml", ".toml"})
#: Address space for the loading process: the interpreter and flagkit's imports
#: need about 300 MiB of it; a document that expanded would need far more.
MEMORY_LIMIT = 1 << 30
#: Generous: a refused document takes well under a second; only a hang gets near.
TIMEOUT = 120

CHILD = """
import json, resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import flagkit
path = sys.argv[1]
fmt = "flagd" if ".flagd." in path else "native"
try:
    client = flagkit.Client.from_file(path, format=fmt)
except flagkit.FlagkitError as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
else:  # the hostile flags were isolated: refused one by one, the rest live
    status = client.status()
    message = "; ".join(str(problem) for problem in status.problems)
    print(json.dumps({"error": None, "refused": list(status.refused), "message": message}))
"""


def test_the_corpus_is_what_its_script_writes(tmp_path: Path) -> None:
    """Regenerating the corpus into a copy changes nothing (the script is its source)."""
    script = (HOSTILE / "generate.py").read_text()
    (tmp_path / "generate.py").write_text(script)
    subprocess.run([sys.executable, str(tmp_path / "generate.py")], check=True, timeout=TIMEOUT)
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != "generate.py")
    assert [p.name for p in DOCUMENTS] == written
    for name in written:
        assert (HOSTILE / name).read_bytes() == (tmp_path / name).read_bytes(), name


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: path.name)
def test_a_hostile_document_is_refused_clearly_in_bounded_time_and_memory(path: Path) -> None:
    """A FlagkitError naming the file; no hang (timeout), no explosion (memory limit)."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(MEMORY_LIMIT)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert 0 == done.returncode, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    if outcome["error"] is None:  # a hostile flag is refused on its own, the document loads
        assert outcome["refused"], outcome
    else:
        assert outcome["error"] in {"DefinitionError", "SourceError"}, outcome
    assert str(path) in outcome["message"]
