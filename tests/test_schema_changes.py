"""Schema change control: no breaking change reaches clients unannounced (CHANGELOG.md)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from conftest import app_client
from soilapi import VERSION
from soilapi.schema_changes import unannounced, unreleased

ROOT = Path(__file__).resolve().parents[1]
RELEASED = ROOT / "schema.released.graphql"
CURRENT = ROOT / "schema.graphql"
CHANGELOG = ROOT / "CHANGELOG.md"

OLD = """
type Query {
  "A record."
  organization(slug: String!): String
  "Records."
  organizations(first: Int): [String!]!
}
enum Kind { A B }
type Unused { kind: Kind }
"""
# `organization` removed (breaking), `first` made required (breaking), an enum value added
# (dangerous).
NEW = """
type Query {
  "Records."
  organizations(first: Int!): [String!]!
}
enum Kind { A B C }
type Unused { kind: Kind }
"""
REMOVED = "Field Query.organization was removed."
REQUIRED = "Argument Query.organizations(first:) has changed type from Int to Int!."
ADDED = "Enum value Kind.C was added."


def _log(*lines: str) -> str:
    return "# Changelog\n\n## Unreleased\n\n" + "\n".join(lines) + "\n\n## 0.1.0 (2026-12-06)\n"


def test_the_current_schema_announces_every_change_since_the_release() -> None:
    found = unannounced(
        RELEASED.read_text(encoding="utf-8"),
        CURRENT.read_text(encoding="utf-8"),
        CHANGELOG.read_text(encoding="utf-8"),
    )
    assert not found, (
        "schema changes since the last release that CHANGELOG.md's Unreleased section does not "
        "announce; add lines such as:\n" + "\n".join(change.line() for change in found)
    )


def test_an_unannounced_breaking_change_fails_the_check() -> None:
    found = unannounced(OLD, NEW, _log())
    assert [(c.kind, c.description) for c in found] == [
        ("breaking", REMOVED),
        ("breaking", REQUIRED),
        ("dangerous", ADDED),
    ]


def test_a_breaking_change_needs_its_deprecation_period() -> None:
    without_deprecation = _log(f"- `{REMOVED}` Use organizations.", f"- `{ADDED}`")
    found = unannounced(OLD, NEW, without_deprecation)
    assert [c.description for c in found] == [REMOVED, REQUIRED]


def test_announced_changes_pass() -> None:
    changelog = _log(
        f"- `{REMOVED}` Deprecated since 0.1.0, for three months: use `organizations`.",
        f"- `{REQUIRED}` Deprecated since 0.1.0 (a null `first` was already refused).",
        f"- `{ADDED}` Clients that switch over Kind meet C.",
    )
    assert unannounced(OLD, NEW, changelog) == []


def test_only_the_unreleased_section_announces() -> None:
    """A line under an older release does not announce a change made since."""
    released_line = f"- `{REMOVED}` Deprecated since 0.0.1."
    changelog = "# Changelog\n\n## Unreleased\n\n## 0.1.0 (2026-12-06)\n\n" + released_line
    assert unreleased(changelog).strip() == ""
    assert REMOVED in [c.description for c in unannounced(OLD, NEW, changelog)]


def test_the_version_is_the_latest_release_and_healthz_reports_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == VERSION
    releases = re.findall(r"^## (\d+\.\d+\.\d+) ", CHANGELOG.read_text(encoding="utf-8"), re.M)
    assert releases[0] == VERSION, "CHANGELOG.md's latest release is pyproject.toml's version"


async def test_healthz_reports_the_version(engine: AsyncEngine) -> None:
    async with app_client(engine) as http:
        body = (await http.get("/healthz")).json()
    assert body == {"status": "ok", "version": VERSION}
