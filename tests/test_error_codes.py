"""One registry of error codes: soilapi.errors.ErrorCode, the README's table lists the same."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from soilapi.errors import ErrorCode
from soilapi.vocab import DateKind, InForceReason, Order, TruthValue

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PACKAGE = ROOT / "src" / "soilapi"


def _section(heading: str) -> str:
    """The README's text from `heading` to the next heading."""
    start = README.index(f"\n{heading}\n")
    end = README.find("\n#", start + len(heading) + 2)
    return README[start : end if end != -1 else None]


def test_the_readme_table_lists_exactly_the_members() -> None:
    rows = re.findall(r"^\| `([A-Z_]+)` \|", _section("### Error codes"), re.M)
    assert len(rows) == len(set(rows)), "a code has two rows"
    assert set(rows) - set(ErrorCode) == set(), "the README documents codes that do not exist"
    assert set(ErrorCode) - set(rows) == set(), "members missing from the README's table"


def test_every_code_the_readme_names_is_a_member() -> None:
    """The prose names codes too (the limits, the conventions): each must exist."""
    settings = _section("## Settings")
    variables = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", settings, re.M))
    named = set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", README.replace(settings, "")))
    orders = {order.name for order in Order}  # the lists' sort keys (`orderBy: SIGNED`)
    # The dates (`on: [LAUNCHED]`) and in-force answers and reasons (`TRUE`, `END_UNKNOWN`).
    dates = {
        member.name for vocabulary in (DateKind, TruthValue, InForceReason) for member in vocabulary
    }
    # The OpenTelemetry SDK's own variables (`OTEL_SERVICE_NAME`), which "Traces" names.
    tracing = {name for name in named if name.startswith("OTEL_")}
    not_codes = variables | orders | dates | tracing | {"HEALTHCHECK"}  # and a Dockerfile word
    assert named - not_codes - set(ErrorCode) == set()


def test_no_module_spells_a_code_but_the_enum() -> None:
    """Every other module refers to a member, so a code cannot drift from its registry."""
    values = {code.value for code in ErrorCode}
    spelled = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in values:
                spelled.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value}")
    assert spelled == []


def test_members_are_their_own_names() -> None:
    """The value is what clients switch on; a member named otherwise would mislead readers."""
    assert all(code.name == code.value for code in ErrorCode)
