"""/graphql per the GraphQL-over-HTTP specification: one handler for GET and POST.

Order of work: method (405) → GraphiQL for browsers → `Accept` (406) → request parameters
(415, 413, 400; a document named by hash is looked up: 404, 400) → admission (rate limit:
429) → the answer (soilapi.graphql.answers: from memory, a compiled replay or strawberry's
execution; GET runs queries only: 405) → status from the result, `X-Cache: hit` for a
remembered answer. With `application/graphql-response+json`
a request that never executed (parse, validation or variable errors) gets 400 and no `data`;
with `application/json` it gets the legacy 200. A database outage is 503 with `Retry-After`.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

import orjson
from graphql import GraphQLError, OperationDefinitionNode
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from soilapi.errors import ErrorCode
from soilapi.graphql.answers import Answer, Answers
from soilapi.graphql.errors import classify, code_of
from soilapi.graphql.limits import parsed
from soilapi.http.conditional import entity_tag, fresh
from soilapi.http.endpoint_media import GRAPHQL_RESPONSE_JSON, JSON, accepts_html, negotiate
from soilapi.http.endpoint_params import Documents, Limits, Params, Problem, read_params

log = logging.getLogger("soilapi.http")

Outcome = Literal["ok", "error", "rejected"]
OnOperation = Callable[[str | None, Outcome], None]
OnRejection = Callable[[str], None]


class RateLimiter(Protocol):
    """Decides whether a well-formed request may run, and learns what it cost once it ran."""

    async def admit(self, request: Request, params: Params) -> Mapping[str, str]:
        """Raise Problem to refuse the request, or return headers to add to its response."""

    def settle(self, request: Request, cpu_seconds: float) -> None:
        """Account for the CPU time the request's document took to parse and validate."""


ContextFactory = Callable[[Request], AbstractAsyncContextManager[Any]]

# Status of a result without `data`, by the code of its errors, with
# application/graphql-response+json (application/json answers 200). Anything else is a 400:
# parse, validation, variable and query-limit errors. TIMEOUT is the code of the
# ExecutionTimeout extension (soilapi.graphql.limits): the server gave up, so a 5xx.
UNEXECUTED_STATUS: dict[str, int] = {ErrorCode.INTERNAL_SERVER_ERROR: 500, ErrorCode.TIMEOUT: 504}

# Asking the server whether the client is still there costs ~150 us (a cancelled receive), as
# much as a whole cheap query: it is asked only after answers that took this long, the ones a
# client may have given up on.
LEAVING_TIME = 0.05

_GET_ONLY = frozenset({OperationType.QUERY})
_POST_ONLY = frozenset({OperationType.QUERY, OperationType.MUTATION})
# A document whose operation strawberry would pick wrongly has two operation keywords.
_OPERATION_KEYWORD = re.compile(r"\b(?:query|mutation|subscription)\b")
# A GET with none of these is a browser asking for the page (when it accepts HTML).
_DOCUMENT_PARAMS = ("query", "extensions", "documentId")


def _finish(error: GraphQLError) -> GraphQLError:
    """Give an error the schema's ErrorCodes extension did not see its client-facing form.

    Strawberry turns an exception raised around execution into a pathless error carrying the
    exception's own text; that is a server fault, so it is masked like any internal error.
    """
    if code_of(error) is not None:
        return error
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError) and error.path is None:
        error_id = uuid.uuid4().hex[:12]
        log.error("internal error [%s] before execution", error_id, exc_info=original)
        code = ErrorCode.INTERNAL_SERVER_ERROR
        return GraphQLError(
            f"Internal error (error id {error_id})", extensions={"code": code, "errorId": error_id}
        )
    return classify(error)


def _succeeded(response: Response) -> bool:
    """Whether a response built by `_respond` is a complete success: status 200 and no
    `errors`, which `_respond` writes before `data` (so a refusal in place of an answer too
    large to send, a 200 under application/json, does not pass for one)."""
    return response.status_code == 200 and bytes(response.body).startswith(b'{"data"')


def _request_error(message: str, code: ErrorCode) -> ExecutionResult:
    """A GraphQL request error the endpoint raises itself (nothing executed)."""
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])


def several_operations(params: Params, max_tokens: int) -> ExecutionResult | None:
    """Refuse a document of several operations sent without `operationName` (GetOperation).

    Strawberry would run the first one; the GraphQL specification makes it a request error.
    The document is read from the parse cache that execution reads too, only when it may hold
    two operations, and never past `max_tokens` (the schema then reports the token limit).
    Parsed here on its own, every search (`search(query: ...)` names a keyword) was parsed at
    each request: a third of its server time.
    """
    query = params.query
    if params.operation_name is not None or not _may_hold_two(query):
        return None
    try:
        document = parsed(query, max_tokens)
    except GraphQLError:
        return None  # the schema reports the syntax error the usual way
    names = [
        d.name.value if d.name else "(anonymous)"
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    if len(names) < 2:
        return None
    return _request_error(
        f"The document holds {len(names)} operations ({', '.join(names)}): "
        "pass `operationName` to choose one.",
        ErrorCode.OPERATION_RESOLUTION_FAILURE,
    )


def _may_hold_two(query: str) -> bool:
    """Whether the document has two operation keywords; counting substrings first spares
    the regular expression for the usual document, which has at most one."""
    keywords = query.count("query") + query.count("mutation") + query.count("subscription")
    return keywords >= 2 and len(_OPERATION_KEYWORD.findall(query)) >= 2


def encode(
    payload: Mapping[str, Any],
    status: int,
    media_type: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response in UTF-8; `Vary: Accept` because the media type follows that header;
    `no-store` unless the caller says otherwise, since only a GET answer has a validator.

    orjson writes the same compact UTF-8 as `json.dumps(ensure_ascii=False)`, 5-10x faster.
    """
    body = orjson.dumps(payload)
    return Response(
        body,
        status,
        headers={
            "content-type": f"{media_type}; charset=utf-8",
            "vary": "Accept",
            "cache-control": "no-store",
            **(headers or {}),
        },
    )


class GraphQLEndpoint:
    """The /graphql handler: an ASGI app that answers every HTTP method itself."""

    def __init__(
        self,
        answers: Answers,
        *,
        context: ContextFactory,
        limits: Limits,
        retry_after_seconds: int = 5,
        ide: Callable[[Request], Response] | None = None,
        on_operation: OnOperation | None = None,
        on_rejection: OnRejection | None = None,
        rate_limiter: RateLimiter | None = None,
        cache_control: str = "no-cache",
        documents: Documents | None = None,
    ) -> None:
        """`answers` answers each request (from memory, by replay or by running it) in the
        context `context` opens for it; `ide` answers with GraphiQL's page (None: off).

        `on_operation` and `on_rejection` let metrics see each request's operation name and
        outcome, and the reason a request was refused (an error code in lower case).
        `rate_limiter` decides, before execution, whether a well-formed request may run, and
        is told afterwards the CPU time it took. `cache_control` is the Cache-Control of
        successful GET answers, which carry an ETag. `documents` reads requests that name
        their document by hash (soilapi.http.persisted); None: every request sends `query`.
        """
        self.answers = answers
        self.context = context
        self.limits = limits
        self.retry_after = str(retry_after_seconds)
        self.ide = ide
        self.on_operation = on_operation
        self.on_rejection = on_rejection
        self.rate_limiter = rate_limiter
        self.cache_control = cache_control
        self.documents = documents

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry: mounted as an app, the route lets every method through to `handle`."""
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        """Answer one request; a bug here still gets a GraphQL-shaped 500 with an error id.

        A client that hangs up while sending its body is not a bug: ClientDisconnect goes on
        to the observability middleware, which counts it as 499.
        """
        try:
            return await self._handle(request)
        except ClientDisconnect:
            raise
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("internal error [%s] in the GraphQL endpoint", error_id)
            error = {
                "message": f"Internal error (error id {error_id})",
                "extensions": {"code": ErrorCode.INTERNAL_SERVER_ERROR, "errorId": error_id},
            }
            return encode({"errors": [error]}, 500, JSON)

    async def _handle(self, request: Request) -> Response:
        if request.method not in {"GET", "POST"}:
            message = f"{request.method} is not supported: send queries with GET or POST."
            problem = Problem(405, ErrorCode.METHOD_NOT_ALLOWED, message, {"allow": "GET, POST"})
            return self._refuse(problem, JSON)
        accept = request.headers.get("accept")
        wants_page = request.method == "GET" and not any(
            p in request.query_params for p in _DOCUMENT_PARAMS
        )
        if self.ide is not None and wants_page and accepts_html(accept):
            page = self.ide(request)
            page.headers["vary"] = "Accept"
            return page
        media_type = negotiate(accept)
        if media_type is None:
            message = (
                f"This endpoint answers {GRAPHQL_RESPONSE_JSON} or {JSON}; Accept allows neither."
            )
            return self._refuse(Problem(406, ErrorCode.NOT_ACCEPTABLE, message), JSON)
        try:
            params = await read_params(request, self.limits, self.documents)
        except Problem as problem:
            return self._refuse(problem, media_type)
        refusal = several_operations(params, self.limits.max_tokens)
        if refusal is not None:
            return self._respond(refusal, media_type, params.operation_name)
        return await self._execute(request, params, media_type)

    async def _execute(self, request: Request, params: Params, media_type: str) -> Response:
        """Admit the request, have it answered, send the answer with its status."""
        limiter = self.rate_limiter
        try:
            extra = await limiter.admit(request, params) if limiter is not None else {}
        except Problem as refused:
            return self._refuse(refused, media_type)
        allowed = _GET_ONLY if request.method == "GET" else _POST_ONLY
        started = time.perf_counter()
        try:
            answer = await self.answers.answer(params, lambda: self.context(request), allowed)
        except InvalidOperationTypeError as exc:
            kind = exc.operation_type.value
            if request.method == "GET":
                message = f"Only queries run over GET: send this {kind} with POST."
                problem = Problem(405, ErrorCode.METHOD_NOT_ALLOWED, message, {"allow": "POST"})
                return self._refuse(problem, media_type)
            message = f"A {kind} cannot run over HTTP POST; only queries and mutations can."
            refusal = _request_error(message, ErrorCode.OPERATION_NOT_SUPPORTED)
            return self._respond(refusal, media_type, params.operation_name, extra)
        except CannotGetOperationTypeError as exc:
            message = (
                f"The document has no operation named {exc.operation_name!r}."
                if exc.operation_name is not None
                else "The document holds no operation to run."
            )
            refusal = _request_error(message, ErrorCode.OPERATION_RESOLUTION_FAILURE)
            return self._respond(refusal, media_type, params.operation_name, extra)
        if limiter is not None:
            limiter.settle(request, answer.cpu_seconds)
        took = time.perf_counter() - started
        if answer.result is not None and took > LEAVING_TIME and await request.is_disconnected():
            # The client left while its query ran: nobody to answer; the observability
            # middleware counts it as 499, like a hang-up while sending the body.
            raise ClientDisconnect
        return self._send(request, answer, params, media_type, extra)

    def _send(
        self,
        request: Request,
        answer: Answer,
        params: Params,
        media_type: str,
        extra: Mapping[str, str],
    ) -> Response:
        """The answer's response; a complete success is remembered, and over GET validated."""
        if answer.body is not None:
            response = self._cached(answer.body, media_type, params.operation_name, extra)
        else:
            assert answer.result is not None
            response = self._respond(answer.result, media_type, params.operation_name, extra)
            if not _succeeded(response):
                return response
            self.answers.remember(answer, bytes(response.body))
        if request.method != "GET" or answer.tag is None:
            return response
        return self._validated(request, response, entity_tag(answer.tag, media_type), extra)

    def _validated(
        self, request: Request, response: Response, etag: str, extra: Mapping[str, str]
    ) -> Response:
        """A successful GET answer with its ETag and Cache-Control, or a 304 with no body
        when the client already holds it (`If-None-Match`)."""
        headers = {"etag": etag, "cache-control": self.cache_control, "vary": "Accept"}
        if fresh(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers={**extra, **headers})
        response.headers.update(headers)
        return response

    def _cached(
        self, body: bytes, media_type: str, name: str | None, extra: Mapping[str, str]
    ) -> Response:
        """A remembered successful answer, sent as the client's media type."""
        self._observe(name, True, [])
        headers = {
            "content-type": f"{media_type}; charset=utf-8",
            "vary": "Accept",
            "x-cache": "hit",
            "cache-control": "no-store",
            **extra,
        }
        return Response(body, 200, headers=headers)

    def _refuse(self, problem: Problem, media_type: str) -> Response:
        """A request refused before GraphQL ran: no `data`, the problem's status (its legacy
        one for `application/json` clients, where it has one) and headers."""
        if self.on_rejection is not None:
            self.on_rejection(problem.code.lower())
        error = {"message": problem.message, "extensions": {"code": problem.code}}
        status = problem.status
        if media_type == JSON and problem.legacy_status is not None:
            status = problem.legacy_status
        return encode({"errors": [error]}, status, media_type, problem.headers)

    def _respond(
        self,
        result: ExecutionResult,
        media_type: str,
        name: str | None,
        extra: Mapping[str, str] | None = None,
    ) -> Response:
        """Status and body for a GraphQL result, per the media type the client accepted."""
        errors = [_finish(e) for e in result.errors or []]
        codes = {code_of(e) for e in errors}
        executed = result.data is not None or any(e.path is not None for e in errors)
        status, with_data, headers = 200, True, dict(extra or {})
        if ErrorCode.DATABASE_UNAVAILABLE in codes:
            # A non-null `data` requires 200 under either media type, so a 503 carries none.
            status, with_data = 503, False
            headers["retry-after"] = self.retry_after
        elif not executed and media_type == GRAPHQL_RESPONSE_JSON:
            statuses = [UNEXECUTED_STATUS.get(code or "", 400) for code in codes]
            status, with_data = max(statuses, default=400), False
        payload: dict[str, Any] = {}
        if errors:
            payload["errors"] = [e.formatted for e in errors]
        if with_data:
            payload["data"] = result.data
        if result.extensions:
            payload["extensions"] = result.extensions
        response = encode(payload, status, media_type, headers)
        if len(response.body) > self.limits.max_response_bytes:
            return self._too_large(len(response.body), media_type, name, extra)
        self._observe(name, executed, errors)
        return response

    def _too_large(
        self, size: int, media_type: str, name: str | None, extra: Mapping[str, str] | None
    ) -> Response:
        """The coded refusal sent in place of an answer over `max_response_bytes`.

        Nothing of the answer is sent: a truncated body would be invalid JSON, and partial
        data would look complete.
        """
        limit = self.limits.max_response_bytes
        message = (
            f"The answer is {size} bytes; the limit is {limit}. Ask for less: smaller pages, "
            "fewer lines, fewer aliases."
        )
        error = GraphQLError(
            message, extensions={"code": ErrorCode.RESPONSE_TOO_LARGE, "limit": limit}
        )
        return self._respond(ExecutionResult(data=None, errors=[error]), media_type, name, extra)

    def _observe(self, name: str | None, executed: bool, errors: list[GraphQLError]) -> None:
        if self.on_operation is not None:
            outcome: Outcome = "rejected" if not executed else "error" if errors else "ok"
            self.on_operation(name, outcome)
        if not executed and self.on_rejection is not None:
            self.on_rejection((code_of(errors[0]) or "unknown").lower() if errors else "unknown")
