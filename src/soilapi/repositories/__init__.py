"""Repositories: the only modules that build SQL."""
