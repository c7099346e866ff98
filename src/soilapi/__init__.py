"""soilapi: the GraphQL API for the global soil-governance network."""

from importlib.metadata import version

# The one place the version is written is pyproject.toml; CHANGELOG.md's latest release
# heading matches it (tests/test_schema_changes.py).
VERSION = version("soilapi")
