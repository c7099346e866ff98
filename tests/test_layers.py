"""The import contracts must catch what they forbid, not pass because they check nothing.

A copy of the package gets one stray module per contract, each breaking it; lint-imports runs
each contract of pyproject.toml on the copy and must report
that contract broken by exactly that import. A misspelt module name, a contract that names no
real package or a layer left out would let `make lint` pass silently; here they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# module added to the copy -> its source; each breaks the contract named in CASES
STRAYS = {
    "db/stray.py": "from soilapi.services import listing\n",
    "stray.py": '"""A top-level module that no layer lists."""\n',
    "services/stray.py": "import strawberry\n",
    "http/stray.py": "from soilapi.repositories import records\n",
    "http/replay.py": "from soilapi.graphql.compiler import Compiled\n",
    "seed/stray.py": "import sqlalchemy\n",
    "graphql/stray.py": "import sqlalchemy\n",
}

CASES = [
    ("pyproject.toml", "layers", "soilapi.db.stray -> soilapi.services.listing"),
    ("pyproject.toml", "layers", "soilapi.stray"),
    ("pyproject.toml", "services-no-web", "soilapi.services.stray -> strawberry"),
    ("pyproject.toml", "http-no-data-access", "soilapi.http.stray -> soilapi.repositories.records"),
    ("pyproject.toml", "http-asks-answers", "soilapi.http.replay -> soilapi.graphql.compiler"),
    ("pyproject.toml", "sql-in-repositories", "soilapi.seed.stray -> sqlalchemy"),
    ("pyproject.toml", "graphql-no-sql", "soilapi.graphql.stray -> sqlalchemy"),
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's Python files and the contracts, plus the stray modules."""
    root = tmp_path_factory.mktemp("layers")
    shutil.copytree(
        ROOT / "src" / "soilapi",
        root / "soilapi",
        ignore=lambda _folder, names: [n for n in names if n in {"static", "data", "documents"}],
    )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    for path, source in STRAYS.items():
        (root / "soilapi" / path).write_text(source, encoding="utf-8")
    return root


def lint(tree: Path, config: str, contract: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run one contract (else all) on the copy, which PYTHONPATH puts before the installed one."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    only = ["--contract", contract] if contract else []
    return subprocess.run(  # noqa: S603 - our own virtualenv's lint-imports
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", *only, config],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(("config", "contract", "culprit"), CASES)
def test_each_contract_reports_its_stray_import(
    tree: Path, config: str, contract: str, culprit: str
) -> None:
    result = lint(tree, config, contract)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "0 kept, 1 broken" in output, output
    assert culprit in output, output


def test_the_contracts_hold_on_the_copy_without_its_strays(tree: Path) -> None:
    """The copy itself is sound: what breaks above is the strays, not the copying."""
    clean = tree.parent / "clean"
    shutil.copytree(tree, clean)
    for path in STRAYS:
        (clean / "soilapi" / path).unlink()
    result = lint(clean, "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
