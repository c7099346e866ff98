"""API keys and who a request acts as.

A key reads `sk_<prefix>_<secret>`. Only the prefix (to find the row) and the SHA-256 of the
whole key are stored, so a leaked table gives no usable key; the key is shown once, when it is
made. Keys live in PostgreSQL, so a revocation holds on every replica at once: a write checks
its key inside its own transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt

from soilapi.db.session import Connection
from soilapi.errors import InvalidInput
from soilapi.lru import Lru
from soilapi.repositories import keys as repo
from soilapi.settings import Settings
from soilapi.vocab import Role

_KEY = re.compile(r"sk_([0-9a-f]{12})_[A-Za-z0-9_-]{20,100}")


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: `actor` is what revisions record ("key:<prefix>")."""

    actor: str
    role: Role
    organizations: frozenset[uuid.UUID] = field(default_factory=frozenset)

    def may_change_anything(self) -> bool:
        """Curators and admins change any record; partners only those in their scope."""
        return self.role in (Role.CURATOR, Role.ADMIN)


@dataclass(frozen=True)
class Issued:
    """A key just made: `secret` is the whole key, shown this once and never stored."""

    secret: str
    prefix: str
    role: Role
    organizations: tuple[str, ...]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def credentials(x_api_key: str | None, authorization: str | None) -> str | None:
    """The key a request presents: `X-API-Key`, else `Authorization: Bearer <key>`."""
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


async def create(conn: Connection, role: Role, organizations: list[str], label: str) -> Issued:
    """Issue a key; a partner's acts for one or more organisations (by slug), others for none."""
    if role == Role.PARTNER and not organizations:
        raise InvalidInput("a partner key needs at least one organisation (--org SLUG)")
    if role != Role.PARTNER and organizations:
        raise InvalidInput(f"a {role.value} key acts for every organisation: give no --org")
    found = await repo.organization_ids(conn, organizations)
    missing = sorted(set(organizations) - set(found))
    if missing:
        raise InvalidInput(f"no organisation has the slug {', '.join(missing)}")
    prefix = secrets.token_hex(6)
    secret = f"sk_{prefix}_{secrets.token_urlsafe(32)}"
    await repo.insert(
        conn,
        prefix=prefix,
        secret_sha256=_digest(secret),
        role=role,
        label=label,
        organizations=[found[slug] for slug in organizations],
    )
    return Issued(secret, prefix, role, tuple(sorted(organizations)))


class TokenVerifier:
    """Bearer tokens from an OpenID Connect provider: signature (the issuer's published keys,
    fetched and cached by PyJWT), issuer, audience and expiry checked; the role and the
    partner's organisations come from two claims. No hand-written cryptography."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks_url):
            raise ValueError("OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URL go together")
        self.issuer = settings.oidc_issuer
        self.audience = settings.oidc_audience
        self.role_claim = settings.oidc_role_claim
        self.organizations_claim = settings.oidc_organizations_claim
        self.keys = jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True, lifespan=300)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier | None:
        """A verifier when the settings name an issuer, else None (API keys only)."""
        return cls(settings) if settings.oidc_issuer else None

    async def claims(self, token: str) -> dict[str, Any] | None:
        """The token's claims if it is valid now; None otherwise (the reason is logged)."""
        try:
            # PyJWKClient reads the key set with urllib: off the event loop.
            key = await asyncio.to_thread(self.keys.get_signing_key_from_jwt, token)
            found: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, OSError) as exc:
            logging.getLogger(__name__).info("bearer token refused: %s", exc)
            return None
        return found


@dataclass(frozen=True)
class Credentials:
    """What a request presents (`X-API-Key`, or `Authorization: Bearer` with a key or a
    token), and how this app checks tokens (None: it takes API keys only)."""

    presented: str | None
    tokens: TokenVerifier | None = None


async def verify(conn: Connection, credentials: Credentials | None) -> Principal | None:
    """The principal of a presented key or token; None when it is absent, unknown, revoked,
    expired or forged. A key's digest is compared in constant time."""
    presented = credentials.presented if credentials is not None else None
    if presented is None:
        return None
    matched = _KEY.fullmatch(presented)
    if matched is None:
        if credentials is not None and credentials.tokens is not None and presented.count(".") == 2:
            return await _token_principal(conn, credentials.tokens, presented)
        return None
    row = await repo.by_prefix(conn, matched.group(1))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_sha256, _digest(presented)):
        return None
    return Principal(f"key:{row.prefix}", row.role, frozenset(row.organization_ids))


async def _token_principal(conn: Connection, tokens: TokenVerifier, token: str) -> Principal | None:
    claims = await tokens.claims(token)
    if claims is None:
        return None
    try:
        role = Role(str(claims.get(tokens.role_claim)))
    except ValueError:
        return None
    slugs = claims.get(tokens.organizations_claim) or []
    if not isinstance(slugs, list) or not all(isinstance(slug, str) for slug in slugs):
        return None
    found = await repo.organization_ids(conn, slugs[:100]) if slugs else {}
    subject = str(claims["sub"])[:200]
    return Principal(f"oidc:{subject}", role, frozenset(found.values()))


async def revoke(conn: Connection, prefix: str) -> bool:
    """Revoke the key with this prefix; False when there is no such live key."""
    return await repo.revoke(conn, prefix)


async def every(conn: Connection) -> list[repo.KeyRow]:
    """Every key, revoked ones included, oldest first (no secret is kept to show)."""
    return await repo.every(conn)


class KnownKeys:
    """Which presented keys are live, remembered per process for `ttl` seconds: the rate
    limiter charges a live key's own bucket, and must not read the database for every
    request of a busy client. A revocation reaches the rate limiter within `ttl`; writes
    check the key in their own transaction, so it stops them at once."""

    def __init__(self, ttl: float = 10.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.seen: Lru[str, tuple[str, float]] = Lru(
            "api_keys", max_entries=max_entries, max_bytes=max_entries * 300, weigh=_key_bytes
        )

    async def actor(self, engine: Any, credentials: Credentials) -> str | None:
        """ "key:<prefix>" for a live key, "oidc:<subject>" for a valid token, else None (an
        unknown key is a stranger's)."""
        presented = credentials.presented
        if presented is None:
            return None
        now = time.monotonic()
        found = self.seen.get(presented)
        if found is not None and found[1] > now:
            return found[0] or None
        token = credentials.tokens is not None and presented.count(".") == 2
        if _KEY.fullmatch(presented) is None and not token:
            return None  # neither a key's shape nor a token's: no lookup, nothing kept
        try:
            async with engine.connect() as conn:
                principal = await verify(conn, credentials)
        except Exception:  # the database is down: the request is limited by its address
            logging.getLogger(__name__).warning("API key lookup failed", exc_info=True)
            return None
        actor = principal.actor if principal else ""
        self.seen.put(presented, (actor, now + self.ttl))
        return actor or None


def _key_bytes(key: str, value: tuple[str, float]) -> int:
    return len(key) + len(value[0]) + 100
