"""The GraphQL-over-HTTP audit suite (npm `graphql-http`) against a live soilapi server.

The package is installed once into a cache folder outside the repository and reused. The
server is a real uvicorn process serving `create_app()` on a free port, with its own engine on
the test database, so the audit sees exactly what a client on the network sees.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

GRAPHQL_HTTP_VERSION = "1.23.1"  # engines: node >= 12
GRAPHQL_VERSION = "16.15.0"  # its peer dependency
SCRIPT = Path(__file__).parent / "audit" / "run_audit.mjs"
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "soilapi" / "graphql-http"
)


def _installed_version(prefix: Path) -> str | None:
    manifest = prefix / "node_modules" / "graphql-http" / "package.json"
    if not manifest.exists():
        return None
    version: str = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    return version


@pytest.fixture(scope="session")
def audit_package() -> Path:
    """The folder whose node_modules holds the pinned graphql-http (installed on first use)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("the GraphQL-over-HTTP audit needs Node.js and npm on PATH")
    if _installed_version(CACHE) == GRAPHQL_HTTP_VERSION:
        return CACHE
    CACHE.mkdir(parents=True, exist_ok=True)
    manifest = CACHE / "package.json"
    if not manifest.exists():  # keeps npm from installing into a package.json further up
        manifest.write_text('{"private": true}\n', encoding="utf-8")
    command = [
        npm,
        "install",
        "--no-audit",
        "--no-fund",
        # Fail within a minute where the registry is unreachable, instead of retrying for long.
        "--fetch-retries=1",
        "--fetch-retry-maxtimeout=10000",
        "--fetch-timeout=30000",
        "--prefix",
        str(CACHE),
        f"graphql-http@{GRAPHQL_HTTP_VERSION}",
        f"graphql@{GRAPHQL_VERSION}",
    ]
    try:
        # S603: the arguments are fixed above, nothing comes from outside.
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        pytest.skip("npm could not install graphql-http within 180 s (is the registry reachable?)")
    if done.returncode != 0 or _installed_version(CACHE) != GRAPHQL_HTTP_VERSION:
        # npm's first error lines name the cause (ECONNREFUSED, ENOTFOUND ...), then a stack.
        errors = [line for line in done.stderr.splitlines() if line.startswith("npm error")]
        cause = " / ".join(line.removeprefix("npm error").strip() for line in errors[:4])
        pytest.skip(
            f"npm could not install graphql-http@{GRAPHQL_HTTP_VERSION} into {CACHE} "
            f"(is the npm registry reachable?): {cause or done.stderr.strip()[-300:]}"
        )
    return CACHE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            pytest.fail(f"the soilapi server exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("the soilapi server did not answer /healthz within 30 s")


@pytest.fixture(scope="module")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A uvicorn process serving soilapi on a free port; yields the /graphql URL.

    Its log goes to a file, not a pipe: a pipe nobody reads would block the server once full.
    """
    log = tmp_path_factory.mktemp("audit") / "server.log"
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "soilapi.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 (fixed arguments, see above)
            command, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base, log)
        yield f"{base}/graphql"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _requirement(result: dict[str, Any]) -> str:
    return str(result["name"]).split(" ", 1)[0]


def test_every_must_and_should_audit_passes(
    audit_package: Path, live_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    node = shutil.which("node") or "node"
    done = subprocess.run(  # noqa: S603 (fixed arguments, see above)
        [node, str(SCRIPT), live_server, str(audit_package)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    assert len(results) > 50, "the audit suite ran fewer audits than graphql-http ships"

    total = Counter(_requirement(r) for r in results)
    passed = Counter(_requirement(r) for r in results if r["status"] == "ok")
    counts = ", ".join(
        f"{level} {passed[level]}/{total[level]}" for level in ("MUST", "SHOULD", "MAY")
    )
    failed = [r for r in results if r["status"] != "ok"]
    with capsys.disabled():
        print(f"\ngraphql-http {GRAPHQL_HTTP_VERSION} audit passed: {counts}")
        for r in failed:
            print(f"  not passed: {r['id']} {r['name']}: {r.get('reason')}")

    required = [r for r in failed if _requirement(r) in {"MUST", "SHOULD"}]
    assert required == [], json.dumps(required, indent=2)
