"""The README and every docs example, run from a wheel installed apart from the checkout.

A user has ``pip install flagkit`` and nothing of this repository: the wheel
is built from this tree, installed into a directory of its own (``pip
install --target``), and put first on ``PYTHONPATH``, so ``import flagkit``
finds the installed copy, never ``src/``. Each Python block then runs in a
fresh directory where the *installed* ``flagkit init`` wrote the starter
files, in one subprocess (``run_blocks.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.docs.test_docs_examples import PYTHON_BLOCKS, ROOT, readme_example

RUNNER = Path(__file__).with_name("run_blocks.py")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Return (the built wheel, the directory it is installed in)."""
    base = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(base), str(ROOT)],
        check=True,
    )
    wheel = next(base.glob("flagkit-*.whl"))
    target = base / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        check=True,
    )
    return wheel, target


def test_the_wheel_ships_the_examples_and_reads_yaml(installed: tuple[Path, Path]) -> None:
    """The starter files are in the wheel, and PyYAML is a dependency (not an extra)."""
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        requires = [
            line.split(":", 1)[1].strip()
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
    assert {
        "flagkit/examples/flags.yaml",
        "flagkit/examples/flagd.json",
        "flagkit/examples/unleash.json",
    } <= names
    plain = [r for r in requires if "extra ==" not in r]
    assert any(r.lower().startswith("pyyaml") for r in plain), plain


def test_examples_run_from_an_installed_wheel(installed: tuple[Path, Path], tmp_path: Path) -> None:
    """Every Python block passes, and the README prints what it shows, from the installed copy."""
    _, target = installed
    yaml_block, python_block, output_block = readme_example()
    jobs = [
        {
            "id": block.id,
            "code": block.code,
            "flags_yaml": yaml_block.code if block.page == "README.md" else None,
            "expect_stdout": output_block.code if block is python_block else None,
        }
        for block in PYTHON_BLOCKS
    ]
    (tmp_path / "jobs.json").write_text(json.dumps(jobs), "utf-8")
    environment = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(tmp_path / "jobs.json"), str(tmp_path / "work")],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert 0 == done.returncode, done.stderr[-4000:]
    report = json.loads(done.stdout)
    assert str(target) in report["flagkit_file"], report["flagkit_file"]
    assert {} == report["failures"]
    assert len(jobs) == report["passed"]
