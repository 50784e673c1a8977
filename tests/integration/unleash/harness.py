"""A real Unleash server (unleash-server 7.5.1 on Node) with a real PostgreSQL 15, for tests.

Both run on free loopback ports, in a temporary directory, and stop when
the test session ends. The server's ``node_modules`` is cached outside the
clone (``FLAGKIT_UNLEASH_SERVER_DIR``, default
``~/.cache/flagkit-tests/unleash-server-7.5.1``) and installed with npm when
it is missing (about 100 s). PostgreSQL runs as the ``postgres`` user when
the tests run as root (``initdb`` refuses root), else as the current user.

Steps verified in ``../shared/recipes/unleash-server.md``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

UNLEASH_VERSION = "7.5.1"
ADMIN_TOKEN = "*:*.admin-secret"
CLIENT_TOKEN = "*:development.client-secret"
SERVER_DIR = Path(
    os.environ.get(
        "FLAGKIT_UNLEASH_SERVER_DIR",
        Path.home() / ".cache" / "flagkit-tests" / f"unleash-server-{UNLEASH_VERSION}",
    )
)
_POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)

_START_SCRIPT = """
const unleash = require('unleash-server');
unleash.start({
  db: {host: '127.0.0.1', port: Number(process.env.PG_PORT), user: 'unleash', password: '',
       database: 'unleash', ssl: false},
  server: {port: Number(process.env.UNLEASH_PORT), host: '127.0.0.1'},
  logLevel: 'warn',
  authentication: {initApiTokens: [
    {environment: '*', project: '*', secret: process.env.ADMIN_TOKEN, type: 'admin',
     tokenName: 'admin'},
    {environment: 'development', project: '*', secret: process.env.CLIENT_TOKEN, type: 'client',
     tokenName: 'client'}]},
}).then(() => console.log('unleash started'), (e) => { console.error(e); process.exit(1); });
"""


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in _POSTGRES_BIN_DIRS:
        if (directory / name).exists():
            return str(directory / name)
    return None


def _required(name: str) -> str:
    found = _tool(name)
    if found is None:
        raise RuntimeError(missing_requirements())
    return found


def missing_requirements() -> str | None:
    """Return what is missing to run the server (a sentence saying what to install), or None."""
    missing = [name for name in ("node", "npm") if shutil.which(name) is None]
    missing += [name for name in ("initdb", "pg_ctl", "psql") if _tool(name) is None]
    if not missing:
        return None
    return (
        f"the Unleash integration test needs Node 20 (node, npm) and PostgreSQL 15 "
        f"(initdb, pg_ctl, psql); missing: {', '.join(missing)}. Install them, e.g. "
        "`apt-get install nodejs npm postgresql-15`"
    )


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ensure_installed() -> Path:
    """Install unleash-server into the cache directory unless it is there; return it."""
    marker = SERVER_DIR / "node_modules" / "unleash-server" / "package.json"
    if marker.exists() and json.loads(marker.read_text())["version"] == UNLEASH_VERSION:
        return SERVER_DIR
    SERVER_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            f"unleash-server@{UNLEASH_VERSION}",
        ],
        cwd=SERVER_DIR,
        check=True,
        timeout=900,
    )
    return SERVER_DIR


def _as_postgres(command: list[str]) -> list[str]:
    """Run as the ``postgres`` user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class Postgres:
    """A throw-away PostgreSQL cluster with an ``unleash`` database."""

    def __init__(self, root: Path) -> None:
        self.data = root / "pg"
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(self.data, "postgres")
        self.port = free_port()

    def start(self) -> None:
        initdb, pg_ctl, psql = _required("initdb"), _required("pg_ctl"), _required("psql")
        subprocess.run(
            _as_postgres([initdb, "-D", str(self.data), "-U", "unleash", "--auth=trust"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        # The log goes to a file the postgres user may write (the data directory):
        # without one the server would hold our captured stdout open.
        log = str(self.data / "server.log")
        subprocess.run(
            _as_postgres([pg_ctl, "-D", str(self.data), "-o", options, "-l", log, "-w", "start"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                psql,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "unleash",
                "-d",
                "postgres",
                "-c",
                "create database unleash",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([_required("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            check=False,  # stopping is best effort: the directory is removed next
            capture_output=True,
            timeout=60,
        )


class UnleashServer:
    """unleash-server on a free port; ``stop()`` and ``start()`` again keep its database."""

    def __init__(self, root: Path, postgres: Postgres, install_dir: Path) -> None:
        self.root = root
        self.postgres = postgres
        self.install_dir = install_dir
        self.port = free_port()
        self.script = root / "start-unleash.cjs"
        self.script.write_text(_START_SCRIPT)
        self.log = root / "unleash.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.admin = httpx.Client(
            base_url=self.url, headers={"Authorization": ADMIN_TOKEN}, timeout=30
        )

    @property
    def url(self) -> str:
        """Return the API base, as Unleash SDKs take it."""
        return f"http://127.0.0.1:{self.port}/api"

    def start(self, timeout: float = 180.0) -> float:
        """Start the server and wait until it answers; return how long that took."""
        began = time.monotonic()
        env = {
            **os.environ,
            "NODE_PATH": str(self.install_dir / "node_modules"),
            "PG_PORT": str(self.postgres.port),
            "UNLEASH_PORT": str(self.port),
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "CLIENT_TOKEN": CLIENT_TOKEN,
        }
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                ["node", str(self.script)],
                cwd=self.install_dir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"unleash-server exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    return time.monotonic() - began
            time.sleep(0.5)
        raise RuntimeError(f"unleash-server not ready after {timeout}s: {self.log.read_text()}")

    def stop(self) -> None:
        """Stop the server process (the database stays)."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """Call the admin API; return the decoded JSON (or None); raise on an error status."""
        response = self.admin.request(method, path, json=body)
        if response.is_error:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def client_features(self) -> Any:
        """Return what the client API serves now."""
        response = httpx.get(
            f"{self.url}/client/features", headers={"Authorization": CLIENT_TOKEN}, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.stop()
        self.admin.close()


@contextlib.contextmanager
def running_unleash() -> Iterator[tuple[UnleashServer, dict[str, float]]]:
    """Start PostgreSQL and unleash-server; yield the server and start-up timings; stop both."""
    timings: dict[str, float] = {}
    began = time.monotonic()
    install_dir = ensure_installed()
    timings["install"] = time.monotonic() - began
    root = Path(tempfile.mkdtemp(prefix="flagkit-unleash-"))
    postgres = Postgres(root)
    server: UnleashServer | None = None
    try:
        began = time.monotonic()
        postgres.start()
        timings["postgres"] = time.monotonic() - began
        server = UnleashServer(root, postgres, install_dir)
        timings["server"] = server.start()
        yield server, timings
    finally:
        if server is not None:
            server.close()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)
