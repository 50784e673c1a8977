"""Run documentation blocks against whichever flagkit ``import flagkit`` finds.

Usage: ``python run_blocks.py JOBS.json WORKDIR``. Each job is a Python
block; it runs in a fresh namespace, in a fresh directory under WORKDIR
holding the starter files that ``python -m flagkit init`` (the flagkit on
``PYTHONPATH``) wrote once, or the job's own ``flags_yaml``. A job with
``expect_stdout`` must print exactly that. Prints a JSON report: where
flagkit was imported from, how many passed, and each failure's traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any


def starter_files(folder: Path) -> dict[str, bytes]:
    """Run the installed ``flagkit init`` (every format) once; return the files it wrote."""
    folder.mkdir(parents=True)
    for extra in ([], ["--format", "flagd"], ["--format", "unleash"]):
        subprocess.run(
            [sys.executable, "-m", "flagkit", "init", *extra],
            cwd=folder,
            check=True,
            capture_output=True,
        )
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def prepare(folder: Path, starters: dict[str, bytes], flags_yaml: str | None) -> None:
    """Lay out a fresh directory: the starter files, or the job's own flags.yaml."""
    folder.mkdir(parents=True)
    for name, data in starters.items():
        (folder / name).write_bytes(data)
    if flags_yaml is not None:
        (folder / "flags.yaml").write_text(flags_yaml, "utf-8")


def run(job: dict[str, Any], folder: Path, starters: dict[str, bytes]) -> str | None:
    """Run one job; return None, or why it failed."""
    prepare(folder, starters, job["flags_yaml"])
    os.chdir(folder)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(job["code"], job["id"], "exec"), {"__name__": "__docs__"})
    except BaseException:  # report every failure, even SystemExit
        return traceback.format_exc()
    expected = job["expect_stdout"]
    if expected is not None and out.getvalue() != expected:
        return f"printed {out.getvalue()!r}, the docs show {expected!r}"
    return None


def main() -> None:
    jobs = json.loads(Path(sys.argv[1]).read_text("utf-8"))
    work = Path(sys.argv[2])
    import flagkit

    starters = starter_files(work / "init")
    failures: dict[str, str] = {}
    for index, job in enumerate(jobs):
        problem = run(job, work / str(index), starters)
        if problem is not None:
            failures[job["id"]] = problem
    report = {
        "flagkit_file": flagkit.__file__,
        "passed": len(jobs) - len(failures),
        "failures": failures,
    }
    sys.stdout.write(json.dumps(report))


if __name__ == "__main__":
    main()
