"""Repositories: the only modules that build SQL.

`Reader` is the request's handle on the database that every repository function takes; the
layers above pass it along without knowing what is behind it.
"""

from soilapi.db.session import Reader

__all__ = ["Reader"]
