"""Text no column can hold is refused where it enters: in the document and in the variables.

PostgreSQL's text cannot hold NUL (U+0000), and UTF-8 cannot encode a lone surrogate
(U+D800-U+DFFF), so a slug, a name filter or a cursor carrying either fails deep in the driver
as an internal error with a traceback. Checking every string of a request before anything runs
covers every argument, of today's fields and of those added later, with one rule: string
literals are checked by a validation rule (cached with the document's validation), variables
by `variable_errors` on each request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import GraphQLError, StringValueNode
from graphql.validation import ValidationRule

from soilapi.errors import ErrorCode

_UNFIT = re.compile("[\x00\ud800-\udfff]")


def unfit(text: str) -> str | None:
    """What in `text` no column can hold, in words; None when it has nothing of the kind."""
    found = _UNFIT.search(text)
    if found is None:
        return None
    char = found.group()
    kind = "a NUL character" if char == "\x00" else "a lone surrogate"
    return f"{kind} (U+{ord(char):04X}) at character {found.start()}"


def _error(where: str, problem: str, node: Any = None) -> GraphQLError:
    message = f"{where} holds {problem}, which no text can hold; remove it."
    return GraphQLError(message, node, extensions={"code": ErrorCode.BAD_USER_INPUT})


class TextColumnsCanHold(ValidationRule):
    """Refuse a string literal holding NUL (written `\\u0000`) with BAD_USER_INPUT.

    graphql-core's lexer already refuses lone surrogate escapes and raw control characters,
    so NUL is the one character a literal can smuggle in.
    """

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        """Check one string literal, wherever it stands (argument, list, input object)."""
        problem = unfit(node.value)
        if problem is not None:
            self.report_error(_error("A string in the query", problem, node))


def variable_errors(variables: Mapping[str, Any] | None) -> list[GraphQLError]:
    """One BAD_USER_INPUT error per variable holding text no column can hold, at any depth."""
    errors = []
    for name, value in (variables or {}).items():
        for problem in _problems(value):
            errors.append(_error(f"Variable ${name}", problem))
            break
    return errors


def _problems(value: Any) -> Iterator[str]:
    """What is unfit in the strings of a JSON value (keys of input objects included)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            problem = unfit(item)
            if problem is not None:
                yield problem
        elif isinstance(item, Mapping):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
