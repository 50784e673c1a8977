"""What polling costs the polling process: CPU per poll, and evaluation latency during a swap.

Run: ``PYTHONPATH=src python benchmarks/http_poll.py``. The server runs in a
child process, so ``time.process_time()`` counts only this process's work:
the request, the response checks and, for a changed document, parsing,
validation and compilation. Results are in docs/sources.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workload import document, users

import flagkit

SIZES = (1_000, 10_000)


def serve(port_out: Any, sizes: tuple[int, ...]) -> None:
    """Serve ``/<n>/same`` (304 once the ETag is known) and ``/<n>/flip`` (always new)."""
    bodies: dict[int, list[bytes]] = {}
    for n in sizes:
        first = document(n)
        second = document(n)
        second["flags"]["constant"]["default"] = "off"
        bodies[n] = [json.dumps(first).encode(), json.dumps(second).encode()]
    flips = dict.fromkeys(sizes, 0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            _, size, mode = self.path.split("/")
            n = int(size)
            if mode == "same" and self.headers.get("If-None-Match") == '"same"':
                self.send_response(304)
                self.send_header("ETag", '"same"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            flips[n] += mode == "flip"
            body = bodies[n][flips[n] % 2]
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("ETag", '"same"' if mode == "same" else f'"v{flips[n]}"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.send(httpd.server_address[1])
    httpd.serve_forever()


def cpu_per_poll(source: flagkit.HTTPSource, repeat: int) -> float:
    """Return the median CPU seconds of one ``poll()``."""
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        source.poll()
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def latency_ns(client: flagkit.Client, stop: threading.Event, out: list[int]) -> None:
    """Evaluate one flag in a loop, recording each call's wall time."""
    people = users(1000)
    clock = time.perf_counter_ns
    i = 0
    while not stop.is_set():
        user = people[i % 1000]
        start = clock()
        client.get_bool("rollout", False, user)
        out.append(clock() - start)
        i += 1


def percentiles(samples: list[int]) -> str:
    """Return p50 / p99 / max in microseconds."""
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[int(len(ordered) * 0.99)] / 1000
    return f"{p50:8.2f} {p99:8.2f} {ordered[-1] / 1000:10.1f}"


def main() -> None:
    """Print CPU per poll for each size, then evaluation latency at rest and during swaps."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50, help="polls per 304 measurement")
    args = parser.parse_args()
    receive, send = multiprocessing.Pipe(duplex=False)
    server = multiprocessing.Process(target=serve, args=(send, SIZES), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{receive.recv()}"
    try:
        print(
            f"{'flags':>7} {'JSON KiB':>9} {'304 poll (ms CPU)':>18} {'changed poll (ms CPU)':>22}"
        )
        for n in SIZES:
            same = flagkit.HTTPSource(f"{base}/{n}/same", interval=3600)
            flip = flagkit.HTTPSource(f"{base}/{n}/flip", interval=3600)
            same.poll()  # learn the ETag
            unchanged = cpu_per_poll(same, args.repeat)
            changed = cpu_per_poll(flip, 5 if n >= 10_000 else 20)
            size = len(json.dumps(document(n))) // 1024
            print(f"{n:>7} {size:>9} {unchanged * 1000:18.3f} {changed * 1000:22.1f}")
            same.close()
            flip.close()

        source = flagkit.HTTPSource(f"{base}/10000/flip", interval=3600)
        source.poll()
        client = flagkit.Client(source.snapshot)
        for label, swaps in (("at rest", 0), ("during 10k swaps", 5)):
            samples: list[int] = []
            stop = threading.Event()
            worker = threading.Thread(target=latency_ns, args=(client, stop, samples))
            worker.start()
            if swaps:
                for _ in range(swaps):
                    source.poll()
                    client.publish(source.snapshot)  # type: ignore[arg-type]
            else:
                time.sleep(1.0)
            stop.set()
            worker.join()
            print(
                f"evaluation {label:>17}: p50/p99/max us {percentiles(samples)}"
                f"  ({len(samples)} calls)"
            )
        source.close()
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
