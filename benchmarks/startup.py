"""Start-up benchmark: ``import flagkit`` and one ``flagkit eval``, beside the interpreter.

Run: ``python benchmarks/startup.py`` (``--quick`` for fewer runs). Prints a
Markdown table of medians over fresh processes:

* ``import flagkit`` as ``python -X importtime`` reports it (the cumulative
  microseconds of the ``flagkit`` line), target at most 120 ms;
* the wall time of ``flagkit eval`` on the shipped example flag file, target
  at most 0.3 s;
* each beside a floor measured in the same rounds: importing ``json`` (a
  small standard module) and starting the interpreter (``python -c pass``).

``--baseline SRC`` also measures another source tree (e.g. an older
checkout's ``src``, put first on ``PYTHONPATH``) in the same rounds, for a
before/after ratio. This machine is shared and noisy: read the medians and
the ratios, not single runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT_TARGET_MS = 120.0
EVAL_TARGET_S = 0.3
_CUMULATIVE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$")


def import_ms(module: str, env: dict[str, str] | None = None) -> float:
    """Return ``python -X importtime -c 'import module'``'s cumulative time, in ms."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    for line in reversed(done.stderr.splitlines()):
        match = _CUMULATIVE.match(line)
        if match and match.group(2) == module:
            return int(match.group(1)) / 1000
    raise RuntimeError(f"no importtime line for {module}")


def wall_s(command: list[str], cwd: str, env: dict[str, str] | None = None) -> float:
    """Return the wall time of one run of ``command``, in seconds."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, check=False, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--baseline", metavar="SRC", help="also measure this source tree")
    options = parser.parse_args()
    rounds = 5 if options.quick else 21
    baseline = (
        None
        if options.baseline is None
        else {**os.environ, "PYTHONPATH": str(Path(options.baseline).resolve())}
    )
    cli = [sys.executable, "-m", "flagkit"]
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([*cli, "init"], cwd=folder, capture_output=True, check=True)
        eval_command = [*cli, "eval", "flags.yaml", "pricing-test", "-k", "user-1"]
        samples: dict[str, list[float]] = {
            "import flagkit (ms)": [],
            "import json (ms)": [],
            "flagkit eval (s)": [],
            "python -c pass (s)": [],
        }
        if baseline is not None:
            samples["baseline: import flagkit (ms)"] = []
            samples["baseline: flagkit eval (s)"] = []
        for _ in range(rounds):  # interleaved, so load changes hit both alike
            samples["import flagkit (ms)"].append(import_ms("flagkit"))
            samples["import json (ms)"].append(import_ms("json"))
            samples["flagkit eval (s)"].append(wall_s(eval_command, folder))
            samples["python -c pass (s)"].append(wall_s([sys.executable, "-c", "pass"], folder))
            if baseline is not None:
                samples["baseline: import flagkit (ms)"].append(import_ms("flagkit", baseline))
                samples["baseline: flagkit eval (s)"].append(wall_s(eval_command, folder, baseline))
    median = {name: statistics.median(values) for name, values in samples.items()}
    print(
        f"# flagkit start-up ({time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
        f"{rounds} runs each)\n"
    )
    print("| measure | median | min | floor | ratio to floor | target |")
    print("|---|---:|---:|---:|---:|:---:|")
    rows = [
        ("import flagkit (ms)", "import json (ms)", IMPORT_TARGET_MS, "{:.1f}"),
        ("flagkit eval (s)", "python -c pass (s)", EVAL_TARGET_S, "{:.3f}"),
    ]
    for name, floor, target, fmt in rows:
        value = median[name]
        verdict = "met" if value <= target else "MISSED"
        print(
            f"| {name} | {fmt.format(value)} | {fmt.format(min(samples[name]))} | "
            f"{fmt.format(median[floor])} ({floor.split(' (')[0]}) | "
            f"{value / median[floor]:.1f}x | {verdict} (<= {target:g}) |"
        )
    if baseline is not None:
        print(f"\nBaseline {options.baseline}, same rounds:\n")
        print("| measure | baseline median | this tree | speed-up |")
        print("|---|---:|---:|---:|")
        for name, fmt in (("import flagkit (ms)", "{:.1f}"), ("flagkit eval (s)", "{:.3f}")):
            before, after = median[f"baseline: {name}"], median[name]
            print(
                f"| {name} | {fmt.format(before)} | {fmt.format(after)} | {before / after:.1f}x |"
            )
    modules = subprocess.run(
        [sys.executable, "-c", "import sys, flagkit; print(len(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, flagkit; print(', '.join(m for m in ('pydantic', 'httpx', 'asyncio', "
            "'ssl', 'yaml') if m in sys.modules) or 'none')",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(
        f"\n`import flagkit` loads {modules} modules; of pydantic, httpx, asyncio, ssl, yaml: "
        f"{heavy}."
    )
    print(f"\nExample file: `flagkit init`'s flags.yaml; interpreter: {Path(sys.executable)}")


if __name__ == "__main__":
    main()
