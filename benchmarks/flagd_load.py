"""Loading a large flagd document: flagkit beside the OpenFeature flagd provider, same run.

Run: ``python benchmarks/flagd_load.py [--flags 10000] [--runs 3]`` (needs
``openfeature-provider-flagd``, from the test extra, for the provider column).

The document is the peer harness's flagd workload (``benchmarks/peers``: a
constant, a rollout, a split and rule flags up to the count). Each load runs
in a fresh process, so its memory is its own: the time from the file to a
first evaluation, the RSS it leaves (after a collection), and the peak RSS
it added. Prints a Markdown table of medians and the ratios to the provider.
The machine is shared: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

_CHILD = r"""
import gc, json, resource, sys, time
sys.path.insert(0, {src!r})

def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

kind, path = sys.argv[1], sys.argv[2]
if kind == "flagkit":
    import flagkit
elif kind == "provider":
    from openfeature import api
    from openfeature.contrib.provider.flagd import FlagdProvider
    from openfeature.contrib.provider.flagd.config import ResolverType
gc.collect()
before, before_peak = rss(), peak()
started = time.perf_counter()
if kind == "flagkit":
    client = flagkit.Client.from_file(path, format="flagd")
    assert client.get_bool("constant", False, {{"targetingKey": "u"}}) is True
elif kind == "provider":
    provider = FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=path)
    api.set_provider_and_wait(provider, "load")
    assert api.get_client("load").get_boolean_value("constant", False) is True
else:
    gc.disable()
    with open(path, "rb") as file:
        document = json.loads(file.read())
    gc.enable()
seconds = time.perf_counter() - started
gc.collect()
added_peak = max(peak() - before_peak, 0)
print(json.dumps({{"seconds": seconds, "rss": rss() - before, "peak": added_peak}}))
"""


def measure(kind: str, path: Path, runs: int) -> dict[str, float]:
    """Return the medians of ``runs`` fresh-process loads of ``path`` by ``kind``."""
    script = _CHILD.format(src=str(HERE.parent / "src"))
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", script, kind, str(path)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        samples.append(json.loads(out.strip().splitlines()[-1]))
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def main() -> None:
    """Write the document, load it every way, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from peers.sdks.sdk_flagd import document

    path = Path(tempfile.mkdtemp(prefix="flagkit-flagd-load-")) / "flagd.json"
    path.write_text(json.dumps(document(args.flags)), encoding="utf-8")
    rows = {kind: measure(kind, path, args.runs) for kind in ("flagkit", "provider", "json")}
    size = path.stat().st_size / 1e6
    print(f"# flagd load, {args.flags:,} flags ({size:.1f} MB), Python {platform.python_version()}")
    print(f"median of {args.runs} fresh processes")
    print()
    print("| loader | time | RSS left | peak RSS added | time ÷ provider | peak ÷ provider |")
    print("|---|---:|---:|---:|---:|---:|")
    provider = rows["provider"]
    for kind, row in rows.items():
        print(
            f"| {kind} | {row['seconds'] * 1000:,.0f} ms | {row['rss'] / 1e6:+.1f} MB |"
            f" {row['peak'] / 1e6:+.1f} MB | {row['seconds'] / provider['seconds']:.2f}x |"
            f" {row['peak'] / max(provider['peak'], 1):.2f}x |"
        )


if __name__ == "__main__":
    main()
