from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from langchain_core.messages import AIMessageChunk

from core.schemas import ChatPlan, MemoryNotes, Program, RouteDecision, RoutineUpdate

T = TypeVar("T")

Conversation = list[dict[str, str]]  # [{role, content}], oldest first, last one from the user


@dataclass
class Generated(Generic[T]):
    """A typed model output and the usage of the call(s) that made it."""

    value: T
    usage: list[dict[str, Any]] = field(default_factory=list)


class ModelProvider(Protocol):
    """What the graph asks of a model. `context` is the gathered context:
    {profile, active_routines, user_memory, exercise_catalog, degraded}.

    Structured steps raise `LLMMalformedOutput` when the output does not validate. The chat answer
    is an async stream of AIMessageChunk produced through a LangChain chat model, so LangGraph's
    "messages" stream sees its tokens (and, on the last chunk, its usage_metadata). The chat plan
    carries `memories_to_save` (durable facts from the last message) for the `remember` node."""

    name: str

    async def route(self, conversation: Conversation) -> Generated[RouteDecision]: ...

    async def plan_chat(self, conversation: Conversation) -> Generated[ChatPlan]: ...

    def stream_chat(
        self, conversation: Conversation, plan: ChatPlan, context: dict[str, Any]
    ) -> AsyncIterator[AIMessageChunk]: ...

    async def generate_program(self, conversation: Conversation, context: dict[str, Any]) -> Generated[Program]: ...

    async def update_routine(self, conversation: Conversation, context: dict[str, Any]) -> Generated[RoutineUpdate]: ...

    async def extract_memories(
        self, conversation: Conversation, known: list[dict[str, Any]] | None = None, noted: list[str] | None = None
    ) -> Generated[MemoryNotes]:
        """What the last message changes in the user's memory (for the `remember` node): durable
        facts (injuries, goals, preferences, equipment, schedule) to add, and known memories
        ({id, text, created_at, updated_at}, the user's nearest) to rewrite or retire, by id.
        `noted`: the facts a chat plan already found (None: find them in the message). The
        router model is enough; every list may be empty."""
        ...


def usage_record(
    node: str,
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    thinking_tokens: int = 0,
    latency_ms: float = 0.0,
    cached_input_tokens: int | None = None,
) -> dict[str, Any]:
    """One model call. `input_tokens` is the whole prompt, `cached_input_tokens` (providers with a
    context cache) the part of it served from the cache; `output_tokens` includes thinking."""
    record = {
        "node": node,
        "model": model,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "thinking_tokens": thinking_tokens,
        "latency_ms": round(latency_ms, 1),
    }
    if cached_input_tokens is not None:
        record["cached_input_tokens"] = cached_input_tokens
    return record
