"""Admission: a bound on the requests a process handles at once, and a deadline for each body.

Without a bound, requests queue for the database pool and the event loop without limit: with
200 concurrent clients the slowest waited past the 10 s execution limit, so they got nothing
for their wait. Past `max_in_flight`, a request is refused at once with 503 OVERLOADED and
`Retry-After`, which a client or a balancer can act on. The probes (/healthz, /readyz,
/metrics) are never refused, or a busy replica would be restarted or taken out of rotation.

A body must be complete within `body_timeout` seconds of its headers, however it trickles,
or the request gets 408 REQUEST_TIMEOUT and its connection is closed: a slow upload holds a
slot. (A body nobody reads is the server's business: soilapi.http.server closes the
connection after the response if the body has not all come by then.)

Plain ASGI, not BaseHTTPMiddleware: that would run the app in a second task and wrap every
response in a stream.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from soilapi.errors import ErrorCode
from soilapi.http.observability import PROBE_ROUTES
from soilapi.http.refusals import refuse

_CLOSE = (b"connection", b"close")


def has_body(scope: Scope) -> bool:
    """Whether the request announces a body (chunked, or a non-zero Content-Length)."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


class Admission:
    """Refuses requests past `max_in_flight` (503) and bodies slower than `body_timeout` (408)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        retry_after_seconds: int,
        body_timeout: float,
    ) -> None:
        """`retry_after_seconds` is the Retry-After of the 503 sent past `max_in_flight`."""
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.retry_after = str(retry_after_seconds).encode()
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request if a slot is free (a probe always), timing its body if any."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = has_body(scope)
        if scope["path"] in PROBE_ROUTES:
            await self._run(scope, receive, send, body=body)
            return
        if self.in_flight >= self.max_in_flight:
            message = (
                f"The server is handling {self.max_in_flight} requests, the most it takes at "
                "once: retry after the time in Retry-After."
            )
            headers = [(b"retry-after", self.retry_after)]
            await refuse(send, 503, ErrorCode.OVERLOADED, message, headers)
            return
        self.in_flight += 1  # no await since the check: no other request can slip in between
        try:
            await self._run(scope, receive, send, body=body)
        finally:
            self.in_flight -= 1

    async def _run(self, scope: Scope, receive: Receive, send: Send, *, body: bool) -> None:
        if body:
            await self._timing_body(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _timing_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; cancel it with a 408 if the body is not complete by the deadline."""
        started = False

        async def receive_in_time() -> Message:
            message = await receive()
            if not message.get("more_body", False):  # the last part, or a disconnect
                _disarm(deadline)
            return message

        async def send_noting(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                _disarm(deadline)  # the app answers without waiting for the rest
            await send(message)

        try:
            async with asyncio.timeout(self.body_timeout) as deadline:
                await self.app(scope, receive_in_time, send_noting)
        except TimeoutError:
            if not deadline.expired():
                raise  # the app's own
        if deadline.expired() and not started:
            message = f"The request body did not arrive within {self.body_timeout:g} s."
            await refuse(send, 408, ErrorCode.REQUEST_TIMEOUT, message, [_CLOSE])


def _disarm(deadline: asyncio.Timeout) -> None:
    """No deadline any more, unless it has passed (a passed one cannot be changed)."""
    if not deadline.expired():
        deadline.reschedule(None)
