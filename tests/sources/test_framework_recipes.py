"""The FastAPI and Starlette recipes of docs/sources.md, run as printed against a real server.

Each recipe creates its client at import time (no running loop), starts
polling in the framework's lifespan hook and stops it at shutdown. Here the
recipe's ``FLAGS_URL`` line points at a live flag server whose flags differ
from the bootstrap, so an answer that shows the server's value proves the
polling task started on the framework's loop.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from flagkit._definitions.parse import parse_bytes
from tests.docs.test_docs_examples import DOCS, extract_blocks, starter_files
from tests.sources.httpserver import FlagServer

URL_LINE = 'FLAGS_URL = "http://127.0.0.1:9/flags.json"  # your flag server (nothing listens here)'


def _recipe(framework: str) -> str:
    page = (DOCS / "sources.md").read_text("utf-8")
    blocks = [b for b in extract_blocks("sources.md", page) if b.lang == "python"]
    return next(b.code for b in blocks if f"from {framework}" in b.code)


CASES = {
    "fastapi": ("/checkout/user-1", {"checkout": "new", "backend": "green"}),
    "starlette": ("/backend/user-1", {"backend": "green"}),
}


@pytest.mark.parametrize("framework", list(CASES))
def test_the_recipe_serves_the_servers_flags(
    framework: str, server: FlagServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Created at import, started in the lifespan: the app answers with the server's flags."""
    starter_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    raw = parse_bytes((tmp_path / "flags.yaml").read_bytes(), "yaml", source="flags.yaml")
    document = json.loads(json.dumps(raw, default=str))  # dates as ISO text, as JSON has them
    document["flags"]["api-backend"]["default"] = "green"  # the bootstrap serves blue
    document["flags"]["checkout-canary"]["default"] = "on"  # everybody gets the new checkout
    server.publish(document)
    code = _recipe(framework)
    assert URL_LINE in code
    module = code.replace(URL_LINE, f"FLAGS_URL = {server.url!r}")
    # Keep the recipe's own TestClient block out: it asserts the bootstrap's answers.
    module = module[: module.index("with TestClient(app) as http:")]
    namespace: dict[str, object] = {"__name__": f"recipe_{framework}"}
    exec(compile(module, f"sources.md ({framework} recipe)", "exec"), namespace)
    source = namespace["source"]
    assert source.deferred  # type: ignore[attr-defined]  # no loop at import time
    test_client = importlib.import_module(f"{framework}.testclient").TestClient
    path, answer = CASES[framework]
    with test_client(namespace["app"]) as http:
        assert answer == http.get(path).json()
        assert not source.deferred  # type: ignore[attr-defined]
    assert server.count() >= 1
    namespace["flags"].close()  # type: ignore[attr-defined]
