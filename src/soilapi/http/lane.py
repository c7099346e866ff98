"""The GraphQL endpoint's own lane through the app: past the framework's layers it needs not.

Every request used to go from soilapi's middleware through FastAPI's exception handlers, its
exit stack for dependencies and the router, to the endpoint. /graphql uses none of them: the
endpoint answers every method and every error itself (soilapi.http.endpoint), has no FastAPI
dependencies, and a crash is masked by the observability middleware, outside. Together they
were a tenth of the server's time on a small query. `Lane`, the innermost of soilapi's
middleware, hands a request for the route's exact path to the route's endpoint; any other goes
on through the app. The route stays in the router, which is where the app lists its routes.
"""

from __future__ import annotations

from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send


class Lane:
    """Sends requests for `route`'s path straight to its endpoint (an ASGI app)."""

    def __init__(self, app: ASGIApp, *, route: Route) -> None:
        """`route`: a route whose endpoint is an ASGI app, with no path parameters."""
        self.app = app
        self.route = route
        self.path = route.path
        self.endpoint: ASGIApp = route.app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hand the route's requests to its endpoint, as the router would; others go on."""
        if scope["type"] == "http" and scope["path"] == self.path:
            scope["route"] = self.route  # as the router records it: metrics label by route
            await self.endpoint(scope, receive, send)
            return
        await self.app(scope, receive, send)
