"""Structured logs: one JSON object per line on stderr, each tagged with its request id.

Log shippers (Loki, CloudWatch, Datadog ...) parse JSON lines without a custom grammar, and the
request id joins a client's report (it sees `X-Request-Id`) to every line its request wrote,
including the error id of a masked internal error.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "x-request-id"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_request_id: ContextVar[str | None] = ContextVar("soilapi_request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName", "color_message"}
)


def current_request_id() -> str | None:
    """The id of the request being handled in this context, if any."""
    return _request_id.get()


def accept_request_id(given: str | None) -> str:
    """Keep a client's or proxy's id when it is a sane token, else make a fresh one.

    Anything else (long, spaces, quotes, control characters) could forge or break log lines.
    """
    if given is not None and _SANE_ID.fullmatch(given):
        return given
    # 128 random bits in 32 hex digits, as uuid4().hex gave (less the version digit), at a
    # fifth of its cost: a UUID object built only to be printed.
    return secrets.token_hex(16)


def bind_request_id(request_id: str) -> Token[str | None]:
    """Make `request_id` the current one; returns a token for `unbind_request_id`."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    """Restore the request id that was current before `bind_request_id`."""
    _request_id.reset(token)


class JsonFormatter(logging.Formatter):
    """Render a record as one line of JSON: time, level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record; tracebacks go into `exception` so the line stays one line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A dictConfig that sends every logger, uvicorn's included, through JsonFormatter.

    uvicorn applies it in each worker process it starts. Its own access log is off: the
    observability middleware writes richer access lines (request id, duration, operation).
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }
