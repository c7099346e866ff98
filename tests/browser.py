"""A headless Chromium for the tests that need a real browser, installed from the npm registry.

Browsers enforce what servers only say (CORS), and GraphiQL runs only in one. The browser is
`@sparticuz/chromium`'s: an npm package whose tarball carries a headless Chromium build and
the libraries it links against (NSS, NSPR, expat), brotli-compressed. So it installs like the
client tests' packages (tests/node.py: pinned, cached outside the repository, no root, no
download host: Playwright's and Puppeteer's own browser downloads are not reachable from CI),
and runs on a machine with no browser and no NSS installed. `puppeteer-core` drives it. The
first run unpacks it once per install (about 200 MB, a few seconds); later runs reuse it.
A test that cannot have it is skipped with the reason, and fails in CI.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.node import Node, node, npm_packages, pins_of, unavailable, workspace

HERE = Path(__file__).resolve().parent / "browser"
# puppeteer-core 25 needs Node 22.12, @sparticuz/chromium 153 22.17: the wheel's Node 24 runs
# them where the machine's is older.
NODE_MAJOR = 24


@dataclass(frozen=True)
class Browser:
    """An unpacked Chromium, the Node that drives it and the scripts' folder."""

    executable: Path
    libraries: Path
    driver: Node
    scripts: Path

    def drive(self, script: str, *args: str, timeout: float = 120) -> Any:
        """Run `script` (in tests/browser/) with a fresh browser; its JSON result."""
        # The package's own libraries first: a machine without NSS has none of its own.
        found = os.environ.get("LD_LIBRARY_PATH")
        libraries = f"{self.libraries}{os.pathsep}{found}" if found else str(self.libraries)
        drive = self.scripts / "drive.mjs"
        done = self.driver.run(
            [str(drive), str(self.executable), str(self.scripts / script), *args],
            cwd=self.scripts,
            env={"LD_LIBRARY_PATH": libraries},
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)


def chromium(scratch: Path) -> Browser:
    """The headless Chromium, installed and unpacked on first use; `scratch` gets the
    scripts beside the packages' node_modules. Skipped (failed in CI) where it cannot be."""
    if sys.platform != "linux" or platform.machine() not in {"x86_64", "AMD64"}:
        machine = f"{sys.platform} {platform.machine()}"
        unavailable(f"@sparticuz/chromium ships Chromium for Linux x86-64, not {machine}")
    driver = node(NODE_MAJOR)
    packages = npm_packages("browser", pins_of(HERE / "package.json"), NODE_MAJOR)
    executable, libraries = _unpacked(driver, packages)
    return Browser(executable, libraries, driver, workspace(scratch, packages, HERE))


@cache
def _unpacked(driver: Node, packages: Path) -> tuple[Path, Path]:
    """Unpack the package's Chromium into its install folder, once: a lock keeps two runs
    from writing it at once, and a marker written last tells a complete unpack."""
    folder = packages / "chromium"
    marker = folder / ".unpacked.json"
    with (packages / "chromium.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            folder.mkdir(exist_ok=True)
            script = HERE / "unpack.mjs"
            # unpack.mjs resolves the package from its own folder: run a copy placed there.
            (packages / script.name).write_bytes(script.read_bytes())
            done = driver.run(
                [str(packages / script.name)], cwd=packages, env={"TMPDIR": str(folder)}
            )
            if done.returncode != 0:
                unavailable(f"@sparticuz/chromium could not be unpacked: {done.stderr[-500:]}")
            marker.write_text(done.stdout, encoding="utf-8")
    found = json.loads(marker.read_text(encoding="utf-8"))
    return Path(found["executable"]), Path(found["libraries"])
