"""Rules for what a client may search for: the text of a query and its filters.

The text is refused, with the argument named, when it could only fail or mislead: empty, longer
than MAX_SEARCH_LENGTH (the limit `nameContains` has too), holding a control character, or
without a letter or digit (no word to look up, no trigram to compare: such a query would match
nothing, or scan every name).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from soilapi.errors import InvalidInput
from soilapi.repositories.search import SearchFilter
from soilapi.services.listing import MAX_FILTER_VALUES, MAX_SEARCH_LENGTH, countries
from soilapi.vocab import EntityKind, SearchLanguage


def checked_text(argument: str, text: str, longest: int = MAX_SEARCH_LENGTH) -> str:
    """The text of a search or a name to match, stripped; InvalidInput naming `argument`."""
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(f"`{argument}` is empty: give at least one word", field=argument)
    if len(stripped) > longest:
        raise InvalidInput(
            f"`{argument}` is {len(stripped)} characters long; the limit is {longest}",
            field=argument,
        )
    for position, char in enumerate(stripped):
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise InvalidInput(
                f"`{argument}` holds a control or unprintable character (U+{ord(char):04X}) at "
                f"character {position}: remove it",
                field=argument,
            )
    if not any(char.isalnum() for char in stripped):
        raise InvalidInput(f"`{argument}` has no letter or digit to look for", field=argument)
    return stripped


def checked_kinds(kinds: Sequence[EntityKind] | None) -> tuple[EntityKind, ...] | None:
    """The kinds to keep (None: all); an empty list would match nothing, so it is refused."""
    if kinds is None:
        return None
    if not kinds:
        raise InvalidInput(
            "`kinds` is empty: pass at least one kind, or leave it out for every kind",
            field="kinds",
        )
    if len(kinds) > MAX_FILTER_VALUES:
        raise InvalidInput(f"`kinds` takes at most {MAX_FILTER_VALUES} values", field="kinds")
    return tuple(dict.fromkeys(kinds))


def search(
    text: str,
    *,
    kinds: Sequence[EntityKind] | None = None,
    country_codes: Sequence[str] | None = None,
    language: SearchLanguage = SearchLanguage.ENGLISH,
) -> SearchFilter:
    """A client's search, checked."""
    return SearchFilter(
        text=checked_text("query", text),
        language=language,
        kinds=checked_kinds(kinds),
        countries=countries(country_codes),
    )
