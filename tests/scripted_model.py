"""A scripted model provider for node tests, in the spirit of langchain's FakeListChatModel: each
step answers with the outputs it was given, in order, and records what it was asked.

    llm = ScriptedModel(route=[{"intent": "CHAT_RESPONSE", "confidence": 0.9}], chat=["Push Day A."])

An output is the step's typed value (or a dict validated into it); an exception in the script is
raised instead (`LLMMalformedOutput(...)` for an unparseable answer). A step called more often than
scripted fails the test. Every call costs one usage record with fixed token counts, so tests can
check that a node passes the usage on."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk
from pydantic import BaseModel

from adapters.llm.base import Conversation, Generated, usage_record
from core.schemas import ChatPlan, MemoryNotes, Program, RouteDecision, RoutineUpdate

MODEL = "scripted"
INPUT_TOKENS, OUTPUT_TOKENS = 100, 20

# step → (the node whose usage it is, the typed output)
STEPS: dict[str, tuple[str, type[BaseModel] | None]] = {
    "route": ("route_intent", RouteDecision),
    "plan_chat": ("plan_chat", ChatPlan),
    "stream_chat": ("respond_chat", None),
    "generate_program": ("generate_routine", Program),
    "update_routine": ("update_routine", RoutineUpdate),
    "extract_memories": ("remember", MemoryNotes),
}


@dataclass(frozen=True)
class Call:
    step: str
    conversation: Conversation
    plan: ChatPlan | None = None
    context: dict[str, Any] | None = None
    known: list[dict[str, Any]] | None = None  # extract_memories: the user's nearest memories shown
    noted: list[str] | None = None  # extract_memories: the facts the chat plan noted


def scripted_usage(node: str) -> dict[str, Any]:
    return usage_record(node, MODEL, input_tokens=INPUT_TOKENS, output_tokens=OUTPUT_TOKENS)


class ScriptedModel:
    """Implements adapters.llm.base.ModelProvider from a script; `calls` lists what it was asked."""

    name = MODEL

    def __init__(
        self,
        *,
        route: Iterable[Any] = (),
        plan: Iterable[Any] = (),
        chat: Iterable[str | BaseException] = (),
        program: Iterable[Any] = (),
        update: Iterable[Any] = (),
        memories: Iterable[Any] = (),
    ):
        self.script: dict[str, deque] = {
            "route": deque(route),
            "plan_chat": deque(plan),
            "stream_chat": deque(chat),
            "generate_program": deque(program),
            "update_routine": deque(update),
            "extract_memories": deque(memories),
        }
        self.calls: list[Call] = []

    def steps(self) -> list[str]:
        return [call.step for call in self.calls]

    def _next(self, call: Call) -> Any:
        self.calls.append(call)
        outputs = self.script[call.step]
        assert outputs, f"the model was asked for {call.step} more often than scripted"
        output = outputs.popleft()
        if isinstance(output, BaseException):
            raise output
        return output

    def _generated(self, call: Call) -> Generated:
        node, schema = STEPS[call.step]
        return Generated(schema.model_validate(self._next(call)), [scripted_usage(node)])

    async def route(self, conversation: Conversation) -> Generated[RouteDecision]:
        return self._generated(Call("route", conversation))

    async def plan_chat(self, conversation: Conversation) -> Generated[ChatPlan]:
        return self._generated(Call("plan_chat", conversation))

    async def stream_chat(
        self, conversation: Conversation, plan: ChatPlan, context: dict[str, Any]
    ) -> AsyncIterator[AIMessageChunk]:
        text = self._next(Call("stream_chat", conversation, plan=plan, context=context))
        words = text.split(" ")
        for n, word in enumerate(words):
            last = n == len(words) - 1
            yield AIMessageChunk(
                content=word if last else word + " ",
                usage_metadata=(
                    {
                        "input_tokens": INPUT_TOKENS,
                        "output_tokens": OUTPUT_TOKENS,
                        "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS,
                    }
                    if last
                    else None
                ),
                response_metadata={"model_name": MODEL} if last else {},
            )

    async def generate_program(self, conversation: Conversation, context: dict[str, Any]) -> Generated[Program]:
        return self._generated(Call("generate_program", conversation, context=context))

    async def update_routine(self, conversation: Conversation, context: dict[str, Any]) -> Generated[RoutineUpdate]:
        return self._generated(Call("update_routine", conversation, context=context))

    async def extract_memories(
        self, conversation: Conversation, known: list[dict[str, Any]] | None = None, noted: list[str] | None = None
    ) -> Generated[MemoryNotes]:
        return self._generated(Call("extract_memories", conversation, known=known, noted=noted))
