"""The Gemini model provider.

- route / plan / memory extraction: the router model (a Flash-Lite) with structured output, the least
  thinking the model allows, a small output cap. An unparseable or empty answer raises LLMMalformedOutput (the nodes ask the user
  instead); a blocked prompt fails the request (LLM_SAFETY_BLOCKED).
- chat answer: the main model, streamed chunk by chunk through LangChain, so LangGraph's
  "messages" stream carries the tokens of this node.
- program / routine update: the main model with structured output and one repair attempt when the
  output does not validate.

Every structured call carries LangGraph's "nostream" tag and runs as one non-streaming request,
so none of its output can show up in a "messages" stream. Every call leaves a usage record (node,
model, input/output/thinking tokens, latency); failures carry the records of the calls they made.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.messages.ai import add_usage
from langgraph.constants import TAG_NOSTREAM
from pydantic import BaseModel, ValidationError

from adapters.llm.base import Conversation, Generated, usage_record
from adapters.llm.gemini import prompting
from adapters.llm.gemini.config import CHAT, GENERATE, PLAN, REMEMBER, ROUTE, UPDATE, GeminiConfig
from adapters.llm.gemini.failures import block_reason, classify, finish_failure
from adapters.llm.gemini.models import build_models
from adapters.llm.gemini.retry import RetryPolicy, call_with_retries
from adapters.prompts import Prompts
from core.errors import LLMError, LLMMalformedOutput, LLMSafetyBlocked, LLMUnavailable
from core.schemas import ChatPlan, MemoryNotes, Program, RouteDecision, RoutineUpdate

log = logging.getLogger("reppy.gemini")

REPAIR = (
    "Your previous reply did not match the required JSON schema: {problem}. "
    "Reply again with only the corrected JSON object."
)


class GeminiProvider:
    name = "gemini"

    def __init__(self, prompts: Prompts, config: GeminiConfig):
        self._prompts = prompts
        self._config = config
        self._models = build_models(config)
        self._policy = RetryPolicy(config.max_retries, config.retry_base_delay_s, config.retry_max_delay_s)
        self._structured = {
            node: _structured(getattr(self._models, attr), node, schema)
            for node, attr, schema in (
                (ROUTE, "route", RouteDecision),
                (PLAN, "plan", ChatPlan),
                (GENERATE, "generate", Program),
                (UPDATE, "update", RoutineUpdate),
                (REMEMBER, "remember", MemoryNotes),
            )
        }
        self._chat = self._models.chat.with_config(run_name=f"gemini_{CHAT}")

    async def route(self, conversation: Conversation) -> Generated[RouteDecision]:
        return await self._call_structured(
            ROUTE,
            self._models.route,
            RouteDecision,
            prompting.route_messages(self._prompts, conversation),
            generation=False,
        )

    async def plan_chat(self, conversation: Conversation) -> Generated[ChatPlan]:
        return await self._call_structured(
            PLAN, self._models.plan, ChatPlan, prompting.plan_messages(self._prompts, conversation), generation=False
        )

    async def extract_memories(
        self, conversation: Conversation, known: list[dict[str, Any]] | None = None, noted: list[str] | None = None
    ) -> Generated[MemoryNotes]:
        known = known or []
        decided = await self._call_structured(
            REMEMBER,
            self._models.remember,
            MemoryNotes,
            prompting.memory_messages(self._prompts, conversation, known, noted),
            generation=False,
        )
        # Back from the short ids the prompt showed to the store's; an id not shown is dropped.
        ids = {str(n): m["id"] for n, m in enumerate(known, start=1)}
        notes: MemoryNotes = decided.value
        notes.memories_to_update = [
            edit.model_copy(update={"id": ids[edit.id.strip()]})
            for edit in notes.memories_to_update
            if edit.id.strip() in ids
        ]
        notes.memories_to_retire = [ids[i.strip()] for i in notes.memories_to_retire if i.strip() in ids]
        return decided

    async def generate_program(self, conversation: Conversation, context: dict[str, Any]) -> Generated[Program]:
        return await self._call_structured(
            GENERATE,
            self._models.generate,
            Program,
            prompting.program_messages(self._prompts, conversation, context),
            generation=True,
        )

    async def update_routine(self, conversation: Conversation, context: dict[str, Any]) -> Generated[RoutineUpdate]:
        return await self._call_structured(
            UPDATE,
            self._models.update,
            RoutineUpdate,
            prompting.update_messages(self._prompts, conversation, context),
            generation=True,
        )

    async def stream_chat(
        self, conversation: Conversation, plan: ChatPlan, context: dict[str, Any]
    ) -> AsyncIterator[AIMessageChunk]:
        messages = prompting.chat_messages(self._prompts, conversation, context)
        timeout_s = self._models.chat.timeout
        started = time.perf_counter()
        retries = 0
        while True:
            watch = _StreamWatch()
            try:
                async for chunk in self._chat.astream(messages):
                    watch.add(chunk)
                    yield chunk
                break
            except Exception as exc:
                if watch.chunks:
                    # Part of an answer is out already: a retry would append a second one.
                    error = classify(exc, CHAT, timeout_s)
                    if error is None:
                        raise
                    error.usage = [watch.record(self._models.chat.model, started)]
                    raise error from None
                await self._policy.wait_or_raise(exc, CHAT, timeout_s, retries)
                retries += 1
        failure = watch.failure()
        if failure is not None:
            failure.usage = [watch.record(self._models.chat.model, started)]
            raise failure

    async def aclose(self) -> None:
        for client in self._models.clients:
            # Used on another event loop: that loop's sessions close with it.
            with contextlib.suppress(RuntimeError):
                await client.aclose()

    async def _call_structured(
        self, node: str, view: Any, schema: type[BaseModel], messages: list, *, generation: bool
    ) -> Generated[Any]:
        """One structured call (plus one repair attempt for generation). Router and planner fail
        only on a blocked prompt; anything else unusable is LLMMalformedOutput (→ clarify)."""
        runnable, parser = self._structured[node]
        usage: list[dict[str, Any]] = []
        attempts = 2 if generation else 1
        problem = ""
        for attempt in range(attempts):
            started = time.perf_counter()
            try:
                raw: AIMessage = await call_with_retries(
                    lambda messages=messages: runnable.ainvoke(messages), self._policy, node, view.timeout
                )
            except LLMError as error:
                error.usage = usage
                raise
            usage.append(
                _record(node, raw.response_metadata.get("model_name") or view.model, raw.usage_metadata, started)
            )
            text = raw.text
            if generation:
                failure = finish_failure(
                    node,
                    raw.response_metadata,
                    has_text=bool(text.strip()),
                    thinking_tokens=usage[-1]["thinking_tokens"],
                )
            else:
                blocked = block_reason(raw.response_metadata)
                failure = LLMSafetyBlocked(f"{node}: Gemini blocked the prompt ({blocked})") if blocked else None
            if failure is not None:
                failure.usage = usage
                raise failure
            parsed = _parsed(parser, text)
            if parsed is not None:
                return Generated(parsed, usage)
            problem = _describe_problem(schema, text, raw.response_metadata)
            log.warning("%s: output did not match %s: %s", node, schema.__name__, problem)
            if attempt + 1 < attempts:
                messages = [*messages, AIMessage(text), HumanMessage(REPAIR.format(problem=problem))]
        repaired = " after one repair attempt" if generation else ""
        error = LLMMalformedOutput(f"{node}: the model's output did not match {schema.__name__}{repaired}: {problem}")
        error.usage = usage
        raise error


def _structured(view: Any, node: str, schema: type[BaseModel]) -> tuple[Any, Any]:
    """What `with_structured_output(schema, include_raw=True)` builds for Gemini (langchain-google-genai
    4.4: the JSON schema as `response_json_schema`, a PydanticOutputParser) without its runnable
    chain around the call — a map, an assign and a fallback, each with its own callback run: ~1.7 ms
    of CPU per call (28%), which 50 concurrent requests' 100 router and planner calls pay in one
    event loop. The parser runs on the raw message here, as the chain ran it."""
    from langchain_core.output_parsers import PydanticOutputParser
    from langchain_core.utils.function_calling import convert_to_json_schema

    bound = view.bind(
        response_mime_type="application/json",
        response_json_schema=schema.model_json_schema(),
        ls_structured_output_format={"kwargs": {"method": "json_schema"}, "schema": convert_to_json_schema(schema)},
    )
    # Never name a run after its node: LangGraph would take it for the node itself and put its
    # output (the raw JSON message) into the "messages" stream despite the tag.
    return bound.with_config(run_name=f"gemini_{node}", tags=[TAG_NOSTREAM]), PydanticOutputParser(
        pydantic_object=schema
    )


def _parsed(parser: Any, text: str) -> Any:
    from langchain_core.exceptions import OutputParserException

    try:
        return parser.parse(text)
    except OutputParserException:
        return None


class _StreamWatch:
    """What one streamed answer has shown so far: chunks, text, usage and how it ended."""

    def __init__(self) -> None:
        self.chunks = 0
        self.text_chars = 0
        self.usage: dict[str, Any] | None = None
        self.metadata: dict[str, Any] = {}

    def add(self, chunk: AIMessageChunk) -> None:
        self.chunks += 1
        self.text_chars += len(chunk.text.strip())
        if chunk.usage_metadata:
            self.usage = add_usage(self.usage, chunk.usage_metadata)
        for key in ("finish_reason", "prompt_feedback", "model_name"):
            if chunk.response_metadata.get(key):
                self.metadata[key] = chunk.response_metadata[key]

    def thinking_tokens(self) -> int:
        return ((self.usage or {}).get("output_token_details") or {}).get("reasoning", 0)

    def failure(self) -> LLMError | None:
        failure = finish_failure(
            CHAT, self.metadata, has_text=self.text_chars > 0, thinking_tokens=self.thinking_tokens()
        )
        if failure is not None:
            return failure
        finish = self.metadata.get("finish_reason")
        if finish is None:
            return LLMUnavailable(f"{CHAT}: the answer stream ended before Gemini finished it")
        if str(finish) != "STOP":
            return LLMMalformedOutput(f"{CHAT}: Gemini stopped the answer unexpectedly ({finish})")
        if not self.text_chars:
            return LLMError(f"{CHAT}: the model returned an empty answer", code="LLM_EMPTY_OUTPUT", retryable=True)
        return None

    def record(self, model: str, started: float) -> dict[str, Any]:
        return _record(CHAT, self.metadata.get("model_name") or model, self.usage, started)


def _record(node: str, model: str, usage: dict[str, Any] | None, started: float) -> dict[str, Any]:
    usage = usage or {}
    return usage_record(
        node,
        model,
        # promptTokenCount, which includes cachedContentTokenCount (billed at the cached rate)
        input_tokens=usage.get("input_tokens", 0),
        output_tokens=usage.get("output_tokens", 0),  # includes thinking, as Gemini bills it
        thinking_tokens=(usage.get("output_token_details") or {}).get("reasoning", 0),
        latency_ms=(time.perf_counter() - started) * 1000,
        cached_input_tokens=(usage.get("input_token_details") or {}).get("cache_read", 0),
    )


def _describe_problem(schema: type[BaseModel], text: str, metadata: dict[str, Any]) -> str:
    """Why an output did not parse, in a few words (field names and rules, never the output)."""
    finish = metadata.get("finish_reason")
    suffix = f" (finishReason {finish})" if finish and str(finish) != "STOP" else ""
    if not text.strip():
        return "the model returned no text" + suffix
    from langchain_core.utils.json import parse_json_markdown

    try:
        value = parse_json_markdown(text)
    except (ValueError, json.JSONDecodeError):
        return "the output is not valid JSON" + suffix
    try:
        schema.model_validate(value)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        described = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'output'}: {e['msg']}" for e in errors[:3])
        return described + (f" (+{len(errors) - 3} more)" if len(errors) > 3 else "") + suffix
    return "the output could not be parsed" + suffix
