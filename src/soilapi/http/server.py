"""The HTTP/1.1 connection `soilapi serve` runs: uvicorn's httptools protocol, with a bounded head.

httptools (llhttp) has no limit on a request's head, and assembles a header split over many
reads by concatenating bytes, which is quadratic: one 100 MB header held the event loop for
~16 s. This protocol counts the bytes each head has taken and refuses it with 431 as soon as
they pass `max_head_bytes` (so at most one read, 256 KiB, is ever buffered beyond it), and
refuses a header over `max_header_bytes` or more than `max_headers` headers the same way. It
also closes a connection whose head is not complete `header_timeout` seconds after the
connection opened or the request's first byte came (slowloris), whatever trickles in.

Why not h11, whose `max_incomplete_event_size` is the library's own cap: it parses in Python,
and on this app it cost 0.6 ms a request (a cached query fell from ~3300 to ~2000 requests a
second on one core); it would still need a subclass here for the status (uvicorn answers its
cap with 400), the header count and the timeout. So the parsing stays with llhttp, and this
class only counts what llhttp reports. It leans on uvicorn's protocol internals (`cycle`,
`headers`, the parser callbacks); the uvicorn version is locked, and tests/http drive a real
server through every path here.
"""

from __future__ import annotations

import asyncio
import http
import logging
from dataclasses import dataclass

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from soilapi.errors import ErrorCode
from soilapi.http.refusals import problem_body
from soilapi.http.security import SECURITY_HEADERS
from soilapi.settings import Settings

log = logging.getLogger("soilapi.http")


@dataclass(frozen=True)
class HeadLimits:
    """What one request's head may be: its bytes, one header's bytes, its headers, its time."""

    max_head_bytes: int = 65536
    max_header_bytes: int = 16384
    max_headers: int = 100
    header_timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> HeadLimits:
        """The limits the settings ask for."""
        return cls(
            settings.max_request_head_bytes,
            settings.max_header_bytes,
            settings.max_headers,
            settings.header_timeout_seconds,
        )


class _HeadWithBody:
    """A connection's transport that sends a response's head with its body, in one write.

    uvicorn writes a response's status line and headers when the app starts the response,
    then its body: two writes, and on loopback or a LAN each is a system call that delivers
    the bytes and wakes the reader. A head is held until the next write (the body, which the
    app sends in the same turn of the event loop) and goes out joined to it; a head with no
    write after it in that turn (a response whose body takes time) goes out at the turn's
    end. Every write of the connection passes here, so bytes keep their order. Anything else
    is the transport's own.
    """

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        """Hold a head; write anything else at once, after a head held."""
        if self._held is not None:
            data, self._held = self._held + data, None
        elif data.startswith(b"HTTP/"):
            self._held = data
            self._loop.call_soon(self.flush)
            return
        self._transport.write(data)

    def flush(self) -> None:
        """Write a head still held."""
        if self._held is not None:
            data, self._held = self._held, None
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        """Close after writing what is held."""
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self._transport, name)


class _HeaderRefused(Exception):
    """Raised from a parser callback to stop parsing a head that breaks a limit."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing heads over `limits` and heads that take too long."""

    limits = HeadLimits()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock: the first head must be complete within the header timeout."""
        super().connection_made(transport)
        self.transport = _HeadWithBody(transport, self.loop)  # type: ignore[assignment]
        self._in_head = False  # a head has begun and is not complete yet
        self._head_bytes = 0  # its bytes in reads it filled entirely
        self._message_ended = False  # a message ended in the read being parsed
        self._refusal: str | None = None
        self._keep_alive_held = False  # a body is still to come: a response now closes
        self._head_began = self.loop.time()
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_at(
            self._head_began + self.limits.header_timeout, self._head_timed_out
        )

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock with the connection."""
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Parse the read, then count it against the head still being read, if any."""
        self._message_ended = False
        super().data_received(data)
        if not self._in_head or self.transport.is_closing():
            return
        # A read that also ended the previous message (pipelining) is not counted: its bytes
        # before the new head are unknown, and counting them could refuse a valid request.
        self._head_bytes = 0 if self._message_ended else self._head_bytes + len(data)
        if self._head_bytes > self.limits.max_head_bytes:
            log.warning("request head over %d bytes: refused", self.limits.max_head_bytes)
            self._answer(
                431,
                ErrorCode.HEADERS_TOO_LARGE,
                f"The request's headers are larger than {self.limits.max_head_bytes:,} bytes, "
                "the most this server reads.",
            )
        elif self._head_timer is None:  # a new head on a kept-alive connection
            deadline = self._head_began + self.limits.header_timeout
            self._head_timer = self.loop.call_at(deadline, self._head_timed_out)

    def on_message_begin(self) -> None:
        """A request's first byte: its head is being read (its clock runs from now)."""
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        if self._head_timer is None:
            self._head_began = self.loop.time()

    def on_header(self, name: bytes, value: bytes) -> None:
        """Refuse a header over the size limit, or one header too many."""
        if len(name) + len(value) > self.limits.max_header_bytes:
            self._refusal = (
                f"A request header is larger than {self.limits.max_header_bytes:,} bytes, "
                "the most this server reads."
            )
        elif len(self.headers) >= self.limits.max_headers:
            self._refusal = (
                f"The request has more than {self.limits.max_headers} headers, "
                "the most this server reads."
            )
        if self._refusal is not None:
            # httptools stops parsing and raises; uvicorn then calls send_400_response.
            raise _HeaderRefused(self._refusal)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        """The head is complete in time: stop its clock before the app starts.

        Until the body has come too, a response closes the connection: else a client could
        hold it by trickling a body nobody reads. A body that has come, read or not (a 503
        refuses a request without reading it), keeps the connection, so refused clients do
        not have to reconnect.
        """
        self._in_head = False
        self._stop_head_timer()
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.keep_alive:
            self.cycle.keep_alive = False
            self._keep_alive_held = True

    def on_message_complete(self) -> None:
        """The body has come: the connection may be kept after all. This read is not
        counted against the next head."""
        self._message_ended = True
        super().on_message_complete()
        if self._keep_alive_held:
            self._keep_alive_held = False
            # A response already begun has said `connection: close`: keep its word.
            self.cycle.keep_alive = not self.cycle.response_started

    def shutdown(self) -> None:
        """Shutting down closes every connection after its response, body or not."""
        self._keep_alive_held = False
        super().shutdown()

    def send_400_response(self, msg: str) -> None:
        """A head refused by `on_header` gets 431; other malformed requests, uvicorn's 400."""
        if self._refusal is None:
            super().send_400_response(msg)
        else:
            self._answer(431, ErrorCode.HEADERS_TOO_LARGE, self._refusal)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if not self._in_head:  # nothing of a request came: close quietly, like keep-alive
            self.transport.close()
            return
        log.info("request head not complete within %s s: closed", self.limits.header_timeout)
        self._answer(
            408,
            ErrorCode.REQUEST_TIMEOUT,
            f"The request's headers did not arrive within {self.limits.header_timeout:g} s.",
        )

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _answer(self, status: int, code: ErrorCode, message: str) -> None:
        """Answer with a GraphQL-shaped error (and the headers every response carries) and
        close; only close while an earlier (pipelined) response is still being written, which
        an answer would corrupt."""
        self._stop_head_timer()
        if self.cycle is None or self.cycle.response_complete:
            body = problem_body(message, code)
            lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}".encode()]
            headers = [*self.server_state.default_headers, *SECURITY_HEADERS]
            lines += [name + b": " + value for name, value in headers]
            lines += [
                b"content-type: application/json",
                b"content-length: %d" % len(body),
                b"connection: close",
            ]
            self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        self.transport.close()


def http_protocol(limits: HeadLimits) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for uvicorn's `http` option, bound to `limits`."""

    class Bound(GuardedHttpToolsProtocol):
        """GuardedHttpToolsProtocol with the limits uvicorn cannot pass to the constructor."""

    Bound.limits = limits
    return Bound
