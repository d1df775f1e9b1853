"""The published contracts: JSON Schemas of the request, the token event and the result event,
generated from the pydantic models (`reppy-worker schema` prints them; docs/schemas/ holds them
committed, and a test fails when the two drift).

The result event's schema is the runtime model with its open parts spelled out: every `final`
shape (each with `reply`), `error.code` as an enum whose members say what they mean and whether a
retry can help, and the `meta` fields the worker adds. The runtime model itself stays lenient, so a
result is never lost to a schema detail; tests check real results against these schemas."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from core.contracts import ErrorInfo, Meta, ResultEvent, TokenEvent, WorkerRequest
from core.contracts import Intent as IntentName
from core.errors import ERROR_CODES
from core.schemas import Program, RoutineUpdate

DIALECT = "https://json-schema.org/draft/2020-12/schema"
REPLY = "The answer in the user's language, ready to show: every SUCCEEDED and CLARIFY result has one."


def _retry_note(retryable: bool | None) -> str:
    if retryable is None:
        return "Retryable: depends on the cause (see error.retryable)."
    return "Retryable: yes." if retryable else "Retryable: no."


RESULT_CODES = {code: info for code, info in ERROR_CODES.items() if info.in_results}
ERROR_CODE_SCHEMA = {
    "type": "string",
    "enum": list(RESULT_CODES),
    "oneOf": [
        {"const": code, "description": f"{info.meaning} {_retry_note(info.retryable)}"}
        for code, info in RESULT_CODES.items()
    ],
}


class ChatFinal(BaseModel):
    """CHAT_RESPONSE: the coach's answer (its tokens were streamed first when `stream` was true)."""

    model_config = ConfigDict(title="ChatFinal")
    reply: str = Field(description=REPLY)


class ProgramFinal(BaseModel):
    """GENERATE_ROUTINE: a new program, and its summary as `reply`."""

    reply: str = Field(description=REPLY)
    program: Program


class RoutineUpdateFinal(BaseModel):
    """UPDATE_ROUTINE: the changed routine and its declared changes, and the changes in words as `reply`."""

    reply: str = Field(description=REPLY)
    routine_update: RoutineUpdate


class ClarifyFinal(BaseModel):
    """CLARIFY: a question for the user (`reply` is the question) and the intents it offers."""

    reply: str = Field(description=REPLY)
    question: str
    options: list[IntentName]


class PublishedErrorInfo(ErrorInfo):
    model_config = ConfigDict(title="Error")
    code: Annotated[str, WithJsonSchema(ERROR_CODE_SCHEMA)]
    message: str = Field(description="For the app's operator or user; never a stack trace, a secret or user text.")
    retryable: bool = Field(default=False, description="Whether redelivering the same request may succeed.")


class PublishedMeta(Meta):
    model_config = ConfigDict(title="Meta", extra="allow")
    provider: str | None = Field(default=None, description="The model provider that answered: gemini or offline.")
    latency_ms: int | None = Field(default=None, description="Time from the claim to the result.")
    degraded: list[str] | None = Field(
        default=None, description="Chat only: context sources that failed and were left out of the answer."
    )
    tokens_streamed: int | None = Field(default=None, description="Token events published before the result.")
    tokens_lost: int | None = Field(
        default=None, description="Token events the stream did not take: show `final` instead of the stream."
    )


class PublishedResultEvent(ResultEvent):
    """One per claimed request, published after its token events. Consumers ignore fields they do not know."""

    model_config = ConfigDict(
        title="ResultEvent",
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"status": {"const": "FAILED"}}},
                    "then": {"properties": {"final": {"type": "null"}, "error": {"type": "object"}}},
                },
                {
                    "if": {"properties": {"status": {"const": "CLARIFY"}}},
                    "then": {
                        "properties": {
                            "final": {"type": "object", "required": ["reply", "question", "options"]},
                            "error": {"type": "null"},
                        }
                    },
                },
                {
                    "if": {"properties": {"status": {"const": "SUCCEEDED"}}},
                    "then": {
                        "properties": {"final": {"type": "object", "required": ["reply"]}, "error": {"type": "null"}}
                    },
                },
            ]
        },
    )
    status: Literal["SUCCEEDED", "FAILED", "CLARIFY"]
    final: ChatFinal | ProgramFinal | RoutineUpdateFinal | ClarifyFinal | None = None
    error: PublishedErrorInfo | None = None
    usage: dict[str, Any] = Field(
        default_factory=dict,
        description="Model calls: {calls: [{node, model, input_tokens, output_tokens, thinking_tokens, "
        "latency_ms, cost_usd}], input_tokens, output_tokens, thinking_tokens, cost_usd}; {} when no call was made.",
    )
    meta: PublishedMeta = Field(default_factory=PublishedMeta)


class PublishedTokenEvent(TokenEvent):
    """One streamed piece of the chat answer: `seq` from 1 without gaps per requestId, `ts` in epoch ms."""

    model_config = ConfigDict(title="TokenEvent")


class PublishedRequest(WorkerRequest):
    """What the worker reads from the request queue. Fields it does not use are ignored."""

    model_config = ConfigDict(title="Request")


# file name (without .schema.json) → (model, JSON Schema mode: what the worker reads or writes)
SCHEMAS: dict[str, tuple[type[BaseModel], Literal["validation", "serialization"]]] = {
    "request": (PublishedRequest, "validation"),
    "token-event": (PublishedTokenEvent, "serialization"),
    "result-event": (PublishedResultEvent, "serialization"),
}


def json_schema(name: str) -> dict[str, Any]:
    model, mode = SCHEMAS[name]
    return {"$schema": DIALECT, **model.model_json_schema(mode=mode)}


def schema_text(name: str) -> str:
    """The schema as committed: stable key order, two-space indent, UTF-8, a final newline."""
    return json.dumps(json_schema(name), ensure_ascii=False, indent=2) + "\n"
