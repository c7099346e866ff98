"""Name matching for integrations: which record a partner's free-text name means.

In the spirit of ROR's affiliation matching: the name is cut into probes (the whole name, its
parts between commas and brackets, its acronyms), a country named in it is taken as a hint
and removed, the records with names close to a probe are fetched (one statement,
soilapi.repositories.search.name_candidates), and each is scored by how its closest name met
the given one:

- EXACT (1.0): the whole name, with or without a country it names, is one of its names, or
  its acronym and a name together (case, accents and punctuation aside);
- PHRASE (0.95): a part of the name, between commas or brackets, is one of its names (or its
  acronym and a name: "FAO, GSP Global Soil Partnership");
- COMMON_TERMS: the same words as one of its names in another order (0.92), or 60 % of
  them or more (0.6 + 0.3 x the share);
- FUZZY (up to 0.9): trigram similarity to a whole name (typos), or 0.6 x the given name's
  word similarity within a longer name;
- ACRONYM (0.85): an acronym in the name (BLE) is its acronym.

An acronym of the name that is also the record's adds 0.05 to another match; a country hint
adds 0.05 when the record is in that country and cuts the score by 40 % when it is in another.
`chosen` marks the best candidate only when it scores CHOSEN_SCORE or more, did not match by
acronym alone (acronyms are short and shared: ROR never chooses them either) and no other
candidate reaches CHOSEN_SCORE: an ambiguous name chooses nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pycountry

from soilapi.errors import InvalidInput
from soilapi.repositories import Reader
from soilapi.repositories import search as repo
from soilapi.repositories.search import Candidate, NameEntry
from soilapi.services.listing import COUNTRY_RE
from soilapi.services.search import checked_kinds, checked_text
from soilapi.vocab import EntityKind, MatchType, SearchField

MAX_NAME_LENGTH = 200
MAX_CANDIDATES = 10
FETCHED = 30  # records fetched to be scored: enough for MAX_CANDIDATES after scoring
MAX_PROBES = 12
MIN_SCORE = 0.5
CHOSEN_SCORE = 0.9
_STOP_WORDS = frozenset({"of", "the", "and", "for", "on", "in", "de", "du", "des", "la", "le"})
_TOKEN = re.compile(r"[0-9a-z]+")
_PARTS = re.compile("[,;/|()\\[\\]{}]|\\s[-\u2013\u2014]\\s")  # hyphen, en and em dash
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]{1,9}\b")
# What unaccent() folds beyond dropping accents (soilapi_fold folds the names in SQL).
_LIGATURES = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l"})


def fold(text: str) -> str:
    """Lower case, accents dropped, punctuation as spaces: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_TOKEN.findall(bare))


@cache
def country_names() -> dict[str, str]:
    """Folded country names (ISO 3166-1 short, official and common names) to alpha-2 codes."""
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value:
                names[fold(value)] = country.alpha_2
    return names


@dataclass(frozen=True)
class Probes:
    """What is looked up for a given name."""

    whole: str  # the folded name, a country in it removed
    parts: tuple[str, ...]  # folded parts between commas and brackets, countries removed
    acronyms: tuple[str, ...]  # folded acronyms written in capitals (BLE, INRAE)
    country: str | None  # a country the name ends with or has as a part
    full: str = ""  # the folded name as given, country and all ("... Society of Japan")

    def wholes(self) -> set[str]:
        """The name given, without and with the country it names."""
        return {self.whole, self.full or self.whole}

    def all(self) -> list[str]:
        """Every probe, the whole name first, at most MAX_PROBES."""
        found = [self.whole, self.full, *self.parts, *self.acronyms]
        return [p for p in dict.fromkeys(found) if p][:MAX_PROBES]


def _strip_country(folded: str) -> tuple[str, str | None]:
    """A folded text without a country name it is or ends with, and that country's code."""
    names = country_names()
    if folded in names:
        return "", names[folded]
    words = folded.split()
    for size in range(min(4, len(words) - 1), 0, -1):
        tail = " ".join(words[-size:])
        if tail in names:
            kept = words[:-size]
            while len(kept) > 1 and kept[-1] in _STOP_WORDS:  # "Society of Japan"
                kept.pop()
            return " ".join(kept), names[tail]
    return folded, None


def probes(name: str) -> Probes:
    """Cut a given name into probes (see the module)."""
    whole, country = _strip_country(fold(name))
    parts: list[str] = []
    for raw in _PARTS.split(name):
        part, found = _strip_country(fold(raw))
        country = country or found
        if part:
            parts.append(part)
    if not whole:  # the name is only a country: keep it
        whole = fold(name)
    acronyms = tuple(fold(a) for a in _ACRONYM.findall(name))
    return Probes(whole, tuple(p for p in parts if p != whole), acronyms, country, fold(name))


@dataclass(frozen=True)
class Match:
    """A candidate record for a given name: how it matched and how sure that is."""

    record: Candidate  # its id, name and country
    score: float
    name: NameEntry
    match_type: MatchType
    reason: str
    chosen: bool = False


def _content(folded: str) -> set[str]:
    return {word for word in folded.split() if word not in _STOP_WORDS}


def _label(entry: NameEntry) -> str:
    return {SearchField.ACRONYM: "acronym", SearchField.ALIAS: "alias"}.get(entry.field, "name")


def _classify(entry: NameEntry, asked: Probes) -> tuple[MatchType, float, str]:  # noqa: PLR0911 - one return per kind of match
    """How one name of a candidate met the given name: (match, score, reason)."""
    name = fold(entry.text)
    said = f'its {_label(entry)} "{entry.text}"'
    if name in asked.wholes():
        return MatchType.EXACT, 1.0, f"the name given is {said}"
    if entry.field is SearchField.ACRONYM and name in asked.acronyms:
        return MatchType.ACRONYM, 0.85, f"an acronym in the name given is {said}"
    if name in asked.parts:
        return MatchType.PHRASE, 0.95, f"a part of the name given is {said}"
    given, own = _content(asked.whole), _content(name)
    shared = len(given & own) / len(given | own) if given | own else 0.0
    if shared == 1.0:
        return MatchType.COMMON_TERMS, 0.92, f"the same words as {said}, in another order"
    fuzzy = max(entry.similarity, 0.6 * entry.within)
    if shared >= 0.6 and 0.6 + 0.3 * shared >= fuzzy:
        score = 0.6 + 0.3 * shared
        words = f"{len(given & own)} of {len(given | own)}"
        return MatchType.COMMON_TERMS, score, f"{words} words in common with {said}"
    closeness = f"trigram similarity {entry.similarity:.2f}"
    if entry.similarity >= 0.6 * entry.within:
        return MatchType.FUZZY, min(0.9, fuzzy), f"close to {said} ({closeness}): a typo?"
    return MatchType.FUZZY, fuzzy, f"the name given appears within {said}"


def _with_acronym(candidate: Candidate, asked: Probes) -> list[tuple[Any, ...]]:
    """Matches of the name given (or a part) written as the record's acronym and name
    together, either way round ("GSP Global Soil Partnership", "OIV International ...")."""
    acronyms = [e for e in candidate.names if e.field is SearchField.ACRONYM]
    found: list[tuple[Any, ...]] = []
    for entry in candidate.names:
        if entry.field is SearchField.ACRONYM:
            continue
        for acronym in acronyms:
            said = f'its acronym "{acronym.text}" and {_label(entry)} "{entry.text}"'
            for both in (
                f"{fold(acronym.text)} {fold(entry.text)}",
                f"{fold(entry.text)} {fold(acronym.text)}",
            ):
                if both in asked.wholes():
                    found.append((MatchType.EXACT, 1.0, f"the name given is {said}", entry))
                elif both in asked.parts:
                    found.append(
                        (MatchType.PHRASE, 0.95, f"a part of the name given is {said}", entry)
                    )
    return found


def _score(candidate: Candidate, asked: Probes, country: str | None) -> Match:
    """The best of a candidate's names, with the acronym and country adjustments."""
    ranked = sorted(
        [
            *((*_classify(entry, asked), entry) for entry in candidate.names),
            *_with_acronym(candidate, asked),
        ],
        key=lambda found: -found[1],
    )
    match_type, score, reason, entry = ranked[0]
    acronyms = {fold(e.text) for e in candidate.names if e.field is SearchField.ACRONYM}
    acronyms.discard(fold(entry.text))  # the name that matched is no second sign
    joined = "its acronym" in reason  # the acronym is part of the match itself
    if match_type is not MatchType.ACRONYM and not joined and acronyms & set(asked.acronyms):
        score = min(1.0, score + 0.05)
        reason += "; its acronym is in the name given too"
    own = candidate.country_code
    if country and own == country:
        score = min(1.0, score + 0.05)
        reason += f"; in {own}, as given"
    elif country and own:
        score *= 0.6
        reason += f"; but it is in {own}, not {country}"
    return Match(candidate, round(score, 4), entry, match_type, reason)


def checked_country(country: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code (upper case), or None."""
    if country is not None and not COUNTRY_RE.match(country):
        raise InvalidInput(
            f"`country` takes an ISO 3166-1 alpha-2 code (two upper-case letters, e.g. DE), "
            f"not {country!r}",
            field="country",
        )
    return country


@dataclass(frozen=True)
class MatchRequest:
    """A checked `match`: the probes of the name, the country hint, the kinds to keep."""

    probes: Probes
    country: str | None
    kinds: tuple[EntityKind, ...] | None


def request(
    name: str, *, country: str | None = None, kinds: Sequence[EntityKind] | None = None
) -> MatchRequest:
    """Check a client's `match` arguments and cut the name into probes."""
    asked = probes(checked_text("name", name, MAX_NAME_LENGTH))
    given = checked_country(country)
    return MatchRequest(asked, given or asked.country, checked_kinds(kinds))


def ranked(found: Sequence[Candidate], asked: MatchRequest) -> list[Match]:
    """Score the candidates, keep those of MIN_SCORE or more (MAX_CANDIDATES at most), best
    first, and choose the best when it is unambiguous (see the module)."""
    scored = [_score(candidate, asked.probes, asked.country) for candidate in found]
    kept = sorted(
        (m for m in scored if m.score >= MIN_SCORE),
        key=lambda m: (-m.score, m.record.name, str(m.record.id)),
    )[:MAX_CANDIDATES]
    confident = [m for m in kept if m.score >= CHOSEN_SCORE]
    if len(confident) == 1 and confident[0].match_type is not MatchType.ACRONYM:
        top = confident[0]
        kept[0] = Match(top.record, top.score, top.name, top.match_type, top.reason, True)
    return kept


async def match(reader: Reader, asked: MatchRequest) -> list[Match]:
    """The candidate records for a checked name, best first (see `ranked`)."""
    found = await repo.name_candidates(reader, asked.probes.all(), asked.kinds, FETCHED)
    return ranked(found, asked)
