"""Headers every response carries, so that browsers treat soilapi's answers as what they are.

One plain-ASGI middleware, outermost, so they reach every response: the API's JSON, probes,
static files, 404s and the masked 500. A response that sets one itself keeps its own value:
the GraphiQL page brings the Content-Security-Policy its scripts need (graphql/explorer.py).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    # Never guess a type: a JSON error echoing a client's text must not run as HTML or script.
    (b"x-content-type-options", b"nosniff"),
    # The API's and GraphiQL's URLs (queries in GET parameters) are nobody else's business.
    (b"referrer-policy", b"no-referrer"),
    # Nothing but the GraphiQL page is meant to be rendered: the rest may load nothing and be
    # framed by no page.
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)


class SecurityHeaders:
    """Adds SECURITY_HEADERS to each HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to its response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
