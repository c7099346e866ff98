"""Root fields that find records by text: `search` (any text of any record) and `match`
(which record a partner's name for it means).

`search` is declared by what it reads (soilapi.graphql.roots): the SQL compiler answers it in
one statement (the page of hits of soilapi.repositories.search, its records and `totalCount`
built as JSON around it); the resolvers in one statement for the hits, one for their records
(the entity loader), one for `totalCount` when asked. `match` scores its candidates in Python
(soilapi.services.matching): the resolvers answer it."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from soilapi.graphql import enums
from soilapi.graphql.limits import MOST_ITEMS
from soilapi.graphql.pagination import After, Before, Connection, First, Last, PageArgs
from soilapi.graphql.query.args import Countries
from soilapi.graphql.resolve import AnyInfo
from soilapi.graphql.roots import Read, SearchRead, arg, root_field
from soilapi.graphql.types.search import MatchCandidate, SearchHit
from soilapi.services import matching
from soilapi.services import search as service
from soilapi.vocab import EntityKind, SearchLanguage

Kinds = Annotated[
    list[enums.EntityKind] | None, arg("Only records of these kinds (default: every kind).")
]


def _kinds(kinds: list[Any] | None) -> list[EntityKind] | None:
    return None if kinds is None else [EntityKind(kind.value) for kind in kinds]


@strawberry.type
class SearchQueries:
    @root_field(
        Connection[SearchHit],
        "Records of every kind whose names, acronyms, aliases, descriptions, "
        "statements or source quotes have every word of `query`, best first: an exact name "
        "or acronym scores 1, then names with the words (shorter ones first), then "
        "descriptions, statements and quotes. When no name has the words, names close to "
        "the query by trigram similarity are found instead (typos, parts of words), among the "
        "names with, for each word of the query, that word when some name has it, else a "
        "word of some name close to it. English "
        "stemming (eroded, eroding, erodes), accents ignored (Petursdóttir, Petursdottir). "
        '`query` takes web-search syntax: "quoted phrase", `or`, `-word`.',
    )
    @staticmethod
    def search(
        query: Annotated[
            str, arg("The words to look for: 1 to 100 characters, with a letter or digit.")
        ],
        kinds: Kinds = None,
        countries: Countries = None,
        language: Annotated[
            enums.SearchLanguage, arg("The language of `query` (default: ENGLISH).")
        ] = enums.SearchLanguage.ENGLISH,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Read:
        found = service.search(
            query,
            kinds=_kinds(kinds),
            country_codes=countries,
            language=SearchLanguage(language.value),
        )
        return SearchRead(found, PageArgs(first=first, after=after, last=last, before=before))

    @strawberry.field(
        description="The records a name means, as a partner's system holds it (\"German "
        'Ministry of Agriculture (BLE)", "INRAE France"): candidates best first, at most '
        f"{matching.MAX_CANDIDATES}, each with a score, the name it matched, how and why, and "
        "`chosen` on the best one only when it is unambiguous (as ROR's affiliation matching "
        "does). A country named in the name (last, or between commas or brackets) counts as "
        "`country`.",
        metadata={MOST_ITEMS: matching.MAX_CANDIDATES},
    )
    async def match(
        self,
        info: AnyInfo,
        name: Annotated[
            str, arg("The name as written elsewhere: 1 to 200 characters, with a letter or digit.")
        ],
        country: Annotated[
            str | None,
            arg(
                "The ISO 3166-1 alpha-2 code (upper case) of its country, if known: "
                "candidates there rank higher, candidates elsewhere lower."
            ),
        ] = None,
        kinds: Kinds = None,
    ) -> list[MatchCandidate]:
        asked = matching.request(name, country=country, kinds=_kinds(kinds))
        return await matching.match(info.context.reader, asked)  # type: ignore[return-value]
