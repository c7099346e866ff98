"""The GraphQL-over-HTTP audit suite (npm `graphql-http`) against a live soilapi server.

The package is installed once into a cache folder outside the repository and reused
(tests/node.py, which also finds Node). The server is a real `soilapi serve` on a free port
(`live_server`), so the audit sees exactly what a client on the network sees.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from tests.node import node, npm_packages

GRAPHQL_HTTP_VERSION = "1.23.1"  # engines: node >= 12
GRAPHQL_VERSION = "16.15.0"  # its peer dependency
SCRIPT = Path(__file__).parent / "audit" / "run_audit.mjs"


@pytest.fixture(scope="session")
def audit_package() -> Path:
    """The folder whose node_modules holds the pinned graphql-http (installed on first use)."""
    pins = {"graphql-http": GRAPHQL_HTTP_VERSION, "graphql": GRAPHQL_VERSION}
    return npm_packages("graphql-http", pins)


def _requirement(result: dict[str, Any]) -> str:
    return str(result["name"]).split(" ", 1)[0]


def test_every_must_and_should_audit_passes(
    audit_package: Path, live_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    done = node().run([str(SCRIPT), live_server, str(audit_package)])
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
