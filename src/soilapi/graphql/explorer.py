"""Offline GraphiQL explorer for the GraphQL endpoint.

Strawberry's built-in GraphiQL page pulls React and GraphiQL from a CDN, so it is blank on a
machine without internet. This module renders the same IDE from files vendored inside the
package (see ``static/graphiql/VERSIONS.txt``) and mounts them; the app's /graphql endpoint
hands the page to browsers.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

if TYPE_CHECKING:
    import fastapi

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "DEFAULT_STATIC_PREFIX",
    "IMMUTABLE",
    "STATIC_DIR",
    "asset_version",
    "explorer_html",
    "mount_explorer_static",
]

STATIC_DIR: Path = Path(__file__).resolve().parent / "static"
"""Folder mounted by :func:`mount_explorer_static`; the vendored files are in its ``graphiql/``."""

DEFAULT_STATIC_PREFIX = "/graphql/static/graphiql"
"""URL of ``STATIC_DIR / "graphiql"`` when mounted with the default path."""

# Order matters: React and ReactDOM must exist as globals before GraphiQL's UMD bundle runs,
# and the explorer plugin reads ``GraphiQL.React`` from that bundle.
_SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "plugin-explorer.umd.js",
)
_STYLESHEETS = ("graphiql.min.css", "plugin-explorer.css")

# soilapi's own files, served beside the vendored ones: the page's layout, and the script
# that starts GraphiQL. The script is a file rather than inline so the page's CSP can allow
# scripts from this server alone ('self'), with no 'unsafe-inline' and no hash to keep in step.
_OWN_STYLESHEET = "soilapi-explorer.css"
# The Explain panel (EXPLAIN_QUERIES), loaded before the bootstrap that may add it.
_EXPLAIN = "soilapi-explain.js"
_BOOTSTRAP = "soilapi-explorer.js"
CONFIG_ID = "graphiql-config"
"""Element id of the page's JSON data block (endpoint, example tabs), read by the bootstrap."""

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # GraphiQL's dialogs inject a <style> element when they open (Radix's scroll lock;
        # with 'self' alone, headless Chromium reports the settings dialog as a violation),
        # and CodeMirror's dialogs are HTML with style attributes: neither takes a nonce.
        # Inline styles run no code, and the page shows no markup that visitors supply.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",  # graphiql.min.css embeds its fonts as data: URLs
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""The GraphiQL page's Content-Security-Policy: its own assets only, never a CDN."""

_PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>soilapi GraphiQL</title>
{stylesheets}
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script id="{config_id}" type="application/json">{config}</script>
{scripts}
</body>
</html>
"""


def _script_json(value: Any) -> str:
    """JSON for a <script> data block: ``<``, ``>``, ``&`` and JS line separators are escaped.

    Escaping ``<`` means a ``</script>`` or ``<!--`` inside the data cannot end the script
    element early, which is how user text would otherwise break out into the page.
    """
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def explorer_html(
    *,
    endpoint: str,
    static_prefix: str,
    tabs: Sequence[Mapping[str, str]],
    explain: bool = False,
) -> str:
    """Render the GraphiQL page that loads its assets from ``static_prefix``, not a CDN.

    ``endpoint`` is the GraphQL URL the page talks to (usually a path like ``/graphql``);
    ``tabs`` (each a ``query`` and its ``variables`` as JSON text) fill the editor's tabs the
    first time a browser opens the page (GraphiQL keeps the user's own edits in local storage
    afterwards); ``explain`` adds the Explain panel, which asks for the SQL and plans of each
    query (EXPLAIN_QUERIES must be on for the server to send them). They travel in a JSON
    data block, which browsers never run, so the page has no inline script for its CSP to
    allow.
    """
    prefix = html.escape(static_prefix.rstrip("/"))
    version = f"?v={asset_version()}"
    stylesheets = "\n".join(
        f'<link rel="stylesheet" href="{prefix}/{name}{version}">'
        for name in (*_STYLESHEETS, _OWN_STYLESHEET)
    )
    scripts = "\n".join(
        f'<script src="{prefix}/{name}{version}"></script>'
        for name in (*_SCRIPTS, *((_EXPLAIN,) if explain else ()), _BOOTSTRAP)
    )
    config = _script_json(
        {"endpoint": endpoint, "tabs": [dict(tab) for tab in tabs], "explain": explain}
    )
    return _PAGE.format(
        stylesheets=stylesheets, scripts=scripts, config_id=CONFIG_ID, config=config
    )


def mount_explorer_static(app: fastapi.FastAPI, path: str = "/graphql/static") -> None:
    """Serve the vendored GraphiQL files under ``path`` (``{path}/graphiql/graphiql.min.js``).

    Call this before the GraphQL router is included at ``/graphql``: Starlette tries routes in
    the order they were added, and if the GraphQL endpoint is ever served by something that
    matches a whole prefix (an ASGI app mounted at ``/graphql``), it would otherwise swallow
    ``/graphql/static/...`` and the page would load without its scripts.
    """
    app.mount(path, VersionedStaticFiles(directory=STATIC_DIR), name="graphiql-static")


IMMUTABLE = "public, max-age=31536000, immutable"
"""Cache-Control of an asset fetched by its versioned URL: its bytes never change."""


@cache
def asset_version() -> str:
    """A digest of every file under STATIC_DIR, names and bytes: it changes with any of them.

    The page asks for each asset with `?v=<this>`, so a browser may keep the file for a year:
    a new release (a GraphiQL upgrade, an edit of soilapi's own script) changes the URLs.
    """
    digest = hashlib.sha256()
    for file in sorted(p for p in STATIC_DIR.rglob("*") if p.is_file()):
        digest.update(file.relative_to(STATIC_DIR).as_posix().encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


class VersionedStaticFiles(StaticFiles):
    """The vendored files, cached for a year when asked for by their versioned URL.

    Any other URL (no `?v=`, or an older release's) gets `no-cache`: the file behind it may
    differ after an upgrade, so the browser revalidates with the ETag Starlette sends.
    """

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        """Starlette's response (200, or 304 on a matching validator) with its Cache-Control."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = scope.get("query_string") == f"v={asset_version()}".encode()
        response.headers["cache-control"] = IMMUTABLE if versioned else "no-cache"
        return response
