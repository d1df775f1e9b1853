"""Wire contracts fixed by the product spec. Field names are exactly the spec's (camelCase ids,
snake_case `conversation_history`).

Requests are read tolerantly: fields the worker does not use are ignored (their names logged at
DEBUG, never their values), `metadata: null` is `{}`, `stream: null` is the default, and integer
ids (backends with Long ids send numbers) are read as their decimal strings. What is rejected makes
a request unanswerable or unsafe: no user turn, wrong types of the fields used, ids that cannot be
one URL path segment, sizes past the limits. Events are written exactly."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from core.errors import InvalidRequest

MAX_CONTENT_CHARS = 8_000
MAX_TURNS = 2_000
MAX_METADATA_BYTES = 16_384
MAX_METADATA_DEPTH = 6
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_FIELD_NAME_CHARS = 40  # of an unknown field's name, when an error message or a log line names it
MAX_IGNORED_NAMES_LOGGED = 10

log = logging.getLogger("reppy.contracts")

# Ids reach URL paths and log lines: keep them to a safe, unambiguous alphabet.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
_ID_RE = re.compile(ID_PATTERN)


def _integer_id(value: Any) -> Any:
    """An integer id as its decimal string (a JSON `true` is not an integer)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# A string of the id alphabet, or a non-negative integer (read as its decimal string).
RequestId = Annotated[
    str,
    BeforeValidator(_integer_id),
    Field(pattern=ID_PATTERN),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": ID_PATTERN}, {"type": "integer", "minimum": 0}]}),
]

Role = Literal["user", "assistant", "system"]
Status = Literal["SUCCEEDED", "FAILED", "CLARIFY"]
Intent = Literal["CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE", "CLARIFY"]


class Message(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    role: Role
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)

    @field_validator("content")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("content is blank")
        if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
            raise ValueError("content contains control characters")
        return value


class WorkerRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", title="Request")

    requestId: RequestId
    userId: RequestId
    conversation_history: list[Message] = Field(
        min_length=1, max_length=MAX_TURNS, description="Oldest first; the last turn is the user's."
    )
    stream: Annotated[
        bool,
        BeforeValidator(lambda value: True if value is None else value),
        WithJsonSchema(
            {
                "type": ["boolean", "null"],
                "default": True,
                "description": "Stream a chat answer as token events; null or absent: true.",
            }
        ),
    ] = True
    metadata: Annotated[
        dict[str, Any],
        BeforeValidator(lambda value: {} if value is None else value),
        WithJsonSchema(
            {
                "type": ["object", "null"],
                "description": f"Free-form, passed through; null or absent: {{}}. At most {MAX_METADATA_BYTES} "
                f"bytes as JSON and {MAX_METADATA_DEPTH} levels deep.",
            }
        ),
    ] = Field(default_factory=dict)

    @field_validator("metadata")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _depth(value) > MAX_METADATA_DEPTH:
            raise ValueError(f"metadata is nested deeper than {MAX_METADATA_DEPTH} levels")
        if len(json.dumps(value, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata is larger than {MAX_METADATA_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def _ends_with_user(self) -> WorkerRequest:
        if self.conversation_history[-1].role != "user":
            raise ValueError("the last conversation_history turn must have role 'user'")
        return self


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_METADATA_DEPTH:  # stop early: the answer is already "too deep"
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


class ErrorInfo(BaseModel):
    code: str
    message: str
    retryable: bool = False


class Meta(BaseModel):
    model_config = ConfigDict(extra="allow")

    intent: Intent | None = None
    action: str | None = None
    confidence: float | None = None


class TokenEvent(BaseModel):
    requestId: str
    seq: int = Field(ge=1)
    delta: str
    ts: int


class ResultEvent(BaseModel):
    requestId: str
    status: Status
    final: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    usage: dict[str, Any] = Field(default_factory=dict)
    meta: Meta = Field(default_factory=Meta)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def parse_request(raw: bytes | str | dict) -> WorkerRequest:
    """Validate one request. Raises InvalidRequest with a readable message; `request_id` is set on
    the error whenever the payload carried a usable requestId, so a FAILED result can still go out."""
    if isinstance(raw, (bytes, bytearray)):
        if len(raw) > MAX_BODY_BYTES:
            raise InvalidRequest(f"request body is larger than {MAX_BODY_BYTES} bytes")
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            error = InvalidRequest("request body is not valid UTF-8")
            error.request_id = _salvage_request_id(bytes(raw))
            raise error from None
    if isinstance(raw, str):
        if len(raw) > MAX_BODY_BYTES:
            raise InvalidRequest(f"request body is larger than {MAX_BODY_BYTES} bytes")
        raw = _load_json(raw)
    if not isinstance(raw, dict):
        raise InvalidRequest("request must be a JSON object")
    try:
        request = WorkerRequest.model_validate(raw)
    except ValidationError as exc:
        error = InvalidRequest(describe_validation_error(exc))
        error.request_id = readable_request_id(raw)
        raise error from None
    if log.isEnabledFor(logging.DEBUG) and (ignored := ignored_fields(raw)):
        log.debug("request %s: ignored fields the worker does not use: %s", request.requestId, ", ".join(ignored))
    return request


def ignored_fields(raw: dict) -> list[str]:
    """The names (shortened, escaped; never values) of the request's fields the worker does not use,
    top-level and in turns (`conversation_history.timestamp`), each once."""
    names = [_field_name(k) for k in raw if k not in WorkerRequest.model_fields]
    for turn in raw.get("conversation_history") or []:
        names += [f"conversation_history.{_field_name(k)}" for k in turn if k not in Message.model_fields]
    unique = list(dict.fromkeys(names))
    more = len(unique) - MAX_IGNORED_NAMES_LOGGED
    return unique[:MAX_IGNORED_NAMES_LOGGED] + ([f"(+{more} more)"] if more > 0 else [])


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise InvalidRequest("request body is not valid JSON") from None
    except RecursionError:
        raise InvalidRequest("request body is nested too deeply") from None
    except ValueError:  # json refuses integers of more than 4300 digits (int_max_str_digits)
        raise InvalidRequest("request body holds a number too long to read") from None


def _salvage_request_id(body: bytes) -> str | None:
    """The requestId of a body that is JSON apart from some invalid UTF-8 (in a message, say), so
    the sender still gets a FAILED result under it. The id itself must be valid as always."""
    try:
        value = json.loads(body.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None
    return readable_request_id(value) if isinstance(value, dict) else None


def readable_request_id(raw: dict) -> str | None:
    value = _integer_id(raw.get("requestId"))
    return value if isinstance(value, str) and _ID_RE.fullmatch(value) else None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, naming the field; input values are left out (they may be huge or private)."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False)[:10]:
        where = ".".join(_field_name(p) for p in err["loc"]) or "request"
        parts.append(f"{where}: {err['msg']}")
    return "invalid request: " + "; ".join(parts)


def _field_name(part: Any) -> str:
    """A location part as it may appear in a message: an unknown field's name is input too, so it
    is shortened and its control characters escaped (it ends up in logs and in the result)."""
    if not isinstance(part, str):
        return str(part)
    shown = part if len(part) <= MAX_FIELD_NAME_CHARS else part[:MAX_FIELD_NAME_CHARS] + "…"
    return shown if shown.isprintable() else json.dumps(shown)[1:-1]
