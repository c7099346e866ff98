"""Documents named by their SHA-256: automatic persisted queries, and trusted documents.

A request may name its document by hash instead of, or beside, sending it in `query`: in
`extensions.persistedQuery = {"version": 1, "sha256Hash": ...}` (Apollo's automatic persisted
queries: Apollo Client's PersistedQueryLink, urql's persistedExchange) or in `documentId`
(GraphQL Codegen's client preset; `sha256:<hash>` as the GraphQL-over-HTTP persisted
documents proposal writes it). Once named, the document is read like any other: the same
limits, caches, cost, ETag and GET-only-queries rule.

Automatic persisted queries (the default): a hash the process has not seen gets
PERSISTED_QUERY_NOT_FOUND, with the message "PersistedQueryNotFound" that urql compares; the
client sends the query with its hash, the server checks the hash is the query's (else
anyone could file a query under another's hash) and learns it. From then on the hash alone
is enough, so a GET URL stays short and cacheable. What a process learned is kept in one
bounded LRU and shared with no other process: a replica that has not seen a hash answers
PERSISTED_QUERY_NOT_FOUND once and the client's retry teaches it, so a shared store would
buy one round trip per replica and document, at the price of a lookup elsewhere per request.

Trusted documents (TRUSTED_DOCUMENTS): only the documents of a manifest run. A request names
one by hash, or sends a text whose hash is listed; anything else gets
PERSISTED_QUERY_NOT_ALLOWED, and nothing is learned.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from soilapi.errors import ErrorCode
from soilapi.http.endpoint_params import Limits, Params, Problem, bad, check, json_kind
from soilapi.lru import Lru

MIB = 1024 * 1024
# The message is part of the protocol: urql's exchange retries on it alone.
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Apollo's manifest (@apollo/generate-persisted-query-manifest); otherwise a plain map.
_APOLLO_FORMAT = "apollo-persisted-query-manifest"


def sha256(text: str) -> str:
    """The hash clients compute: SHA-256 of the document's UTF-8 text, in lower-case hex."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _hash(value: object, where: str) -> str:
    if not isinstance(value, str) or _SHA256.fullmatch(value) is None:
        raise bad(
            f"{where} must be the SHA-256 of the document's UTF-8 text, as 64 lower-case hex "
            f"digits, not {json_kind(value) if not isinstance(value, str) else repr(value)}."
        )
    return value


def _from_extensions(persisted: object) -> str:
    if not isinstance(persisted, dict):
        raise bad(
            '`extensions.persistedQuery` must be an object like {"version": 1, '
            f'"sha256Hash": "..."}}, not {json_kind(persisted)}.'
        )
    version = persisted.get("version")
    if isinstance(version, bool) or version != 1:
        raise bad(
            f"Persisted query version {json.dumps(version)} is not supported: this server "
            "speaks version 1 of the automatic persisted queries protocol."
        )
    return _hash(persisted.get("sha256Hash"), "`extensions.persistedQuery.sha256Hash`")


def named_hash(raw: Mapping[str, Any]) -> str | None:
    """The hash a request names its document by, if it names one; Problem if malformed."""
    extensions = raw.get("extensions")
    found = []
    if isinstance(extensions, dict) and "persistedQuery" in extensions:
        found.append(_from_extensions(extensions["persistedQuery"]))
    document_id = raw.get("documentId")
    if document_id is not None:
        if not isinstance(document_id, str):
            raise bad(f"`documentId` must be a string, not {json_kind(document_id)}.")
        found.append(_hash(document_id.removeprefix("sha256:"), "`documentId`"))
    if len(set(found)) > 1:
        raise bad("`documentId` and `extensions.persistedQuery` name different documents.")
    return found[0] if found else None


def _verified(named: str | None, text: str) -> str:
    """The text's hash, which must be the one the request names (Apollo Server: 400)."""
    actual = sha256(text)
    if named is not None and named != actual:
        raise bad(
            f"The hash sent ({named}) is not the SHA-256 of `query` ({actual}): hash the "
            "exact text sent, as UTF-8."
        )
    return actual


class PersistedDocuments:
    """Reads requests that may name their document by hash; see the module.

    `trusted` (hash → document) runs those documents only; None learns documents from
    clients (automatic persisted queries), at most `max_entries` and `max_bytes` of them.
    """

    def __init__(
        self,
        trusted: Mapping[str, str] | None = None,
        *,
        max_entries: int = 4096,
        max_bytes: int = 16 * MIB,
    ) -> None:
        self.trusted = trusted
        # Empty with trusted documents, which learn nothing (the metrics page shows it so).
        self.learned: Lru[str, str] = Lru(
            "persisted_queries",
            max_entries=0 if trusted is not None else max_entries,
            max_bytes=max_bytes,
            weigh=_text_bytes,
        )

    def read(self, raw: dict[str, Any], limits: Limits) -> Params:
        """The request's parameters, `query` filled in from the hash it names."""
        named = named_hash(raw)
        query = raw.get("query")
        if query is not None and not isinstance(query, str):
            return check(raw, limits)  # refuses the wrong type as it would any request
        text = query or None
        if self.trusted is not None:
            return check(_listed(self.trusted, raw, named, text), limits)
        if named is None:
            return check(raw, limits)
        if text is None:
            found = self.learned.get(named)
            if found is None:
                raise Problem(
                    404, ErrorCode.PERSISTED_QUERY_NOT_FOUND, NOT_FOUND_MESSAGE, legacy_status=200
                )
            return check({**raw, "query": found}, limits)
        _verified(named, text)
        params = check(raw, limits)  # only a document within the limits is learned
        self.learned.put(named, text)
        return params


def _listed(
    trusted: Mapping[str, str], raw: dict[str, Any], named: str | None, text: str | None
) -> dict[str, Any]:
    """The parameters with the trusted document the request names or sends; refused when
    the manifest does not list it."""
    if text is not None:
        named = _verified(named, text)
    if named is None:
        return raw  # no document and no hash: check() says what to send
    found = trusted.get(named)
    if found is None:
        what = "This document" if text is not None else f"The document {named}"
        message = (
            f"{what} is not among this server's trusted documents: it runs only the "
            "operations its clients were built with."
        )
        raise Problem(400, ErrorCode.PERSISTED_QUERY_NOT_ALLOWED, message, legacy_status=200)
    return {**raw, "query": found}


def _text_bytes(key: str, text: str) -> int:
    return sys.getsizeof(key) + sys.getsizeof(text)


class ManifestError(ValueError):
    """A trusted documents manifest that cannot be used; the message says why and where."""


def read_manifest(path: Path) -> dict[str, str]:
    """A trusted documents manifest: hash → document, each hash checked against its text.

    Either a JSON object of SHA-256 hashes (bare, or `sha256:<hash>` as GraphQL Codegen's
    client preset writes them with `persistedDocuments: {hashAlgorithm: "sha256"}`) to
    documents, or Apollo's persisted query manifest (`{"format":
    "apollo-persisted-query-manifest", "operations": [...]}`).
    """
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"TRUSTED_DOCUMENTS: cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ManifestError(f"TRUSTED_DOCUMENTS: {path} is not valid JSON: {exc}") from exc
    if isinstance(manifest, dict) and manifest.get("format") == _APOLLO_FORMAT:
        operations = manifest.get("operations")
        if not isinstance(operations, list):
            raise ManifestError(f"TRUSTED_DOCUMENTS: {path} has no `operations` list")
        manifest = {op.get("id"): op.get("body") for op in operations if isinstance(op, dict)}
    if not isinstance(manifest, dict) or not manifest:
        raise ManifestError(
            f"TRUSTED_DOCUMENTS: {path} must be a JSON object of SHA-256 hashes to documents"
        )
    documents: dict[str, str] = {}
    for key, document in manifest.items():
        digest = key.removeprefix("sha256:") if isinstance(key, str) else key
        if not isinstance(document, str) or sha256(document) != digest:
            raise ManifestError(
                f"TRUSTED_DOCUMENTS: in {path}, {key!r} is not the SHA-256 of its document "
                "(generate the manifest with SHA-256 hashes; GraphQL Codegen's default is SHA-1)"
            )
        documents[digest] = document
    return documents
