"""Schema change control: every breaking change to the GraphQL schema is announced first.

`schema.graphql` is what the code serves; `schema.released.graphql` is the schema of the last
release. graphql-core's `find_breaking_changes` and `find_dangerous_changes` compare the two.
A breaking change (a field removed, an argument made required...) may ship only once
`CHANGELOG.md` lists it, under "Unreleased", with the deprecation that preceded it (or why
none could); a dangerous one (an enum value added, an argument's default changed) only once
it is listed too, since clients that switch over an enum exhaustively will meet the new value.
The test suite runs `unannounced` on the repository's files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import build_schema, find_breaking_changes, find_dangerous_changes

UNRELEASED = "## Unreleased"
# What a breaking change's line must also say: since when its replacement was offered, or why
# GraphQL offers no way to deprecate it first (a field's type renamed: no directive marks that).
DEPRECATION = re.compile(r"\b(?:deprecated since|cannot be deprecated)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Unannounced:
    """A change between the released schema and the current one that CHANGELOG.md lacks."""

    kind: str  # "breaking" or "dangerous"
    description: str  # graphql-core's sentence, which the changelog quotes in backticks

    def line(self) -> str:
        """The changelog line that would announce it (the deprecation is the author's to say)."""
        if self.kind == "breaking":
            return f"- `{self.description}` Deprecated since <version>, for <how long>: <why>."
        return f"- `{self.description}` <What clients should know>."


def unreleased(changelog: str) -> str:
    """The text of the changelog's "Unreleased" section (empty when it has none)."""
    start = changelog.find(UNRELEASED + "\n")
    if start < 0:
        return ""
    rest = changelog[start + len(UNRELEASED) :]
    end = rest.find("\n## ")
    return rest if end < 0 else rest[:end]


def unannounced(released: str, current: str, changelog: str) -> list[Unannounced]:
    """The changes from `released` to `current` (SDL texts) that `changelog` does not announce.

    A change is announced by a line of the Unreleased section quoting graphql-core's
    description in backticks; for a breaking change that line also says when the deprecation
    began ("deprecated since 0.1.0"), or that none was possible ("cannot be deprecated").
    """
    old, new = build_schema(released), build_schema(current)
    lines = unreleased(changelog).splitlines()

    def announced(description: str, *, deprecated: bool) -> bool:
        quoted = f"`{description}`"
        return any(
            quoted in line and (not deprecated or DEPRECATION.search(line)) for line in lines
        )

    found = [
        Unannounced("breaking", change.description)
        for change in find_breaking_changes(old, new)
        if not announced(change.description, deprecated=True)
    ]
    found += [
        Unannounced("dangerous", change.description)
        for change in find_dangerous_changes(old, new)
        if not announced(change.description, deprecated=False)
    ]
    return found
