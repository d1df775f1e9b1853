from __future__ import annotations

import time

from langchain_core.messages import AIMessageChunk
from langchain_core.messages.ai import add_ai_message_chunks
from langgraph.runtime import Runtime

from adapters.llm.base import usage_record
from core.errors import LLMError
from core.schemas import ChatPlan
from graph.context import Context
from graph.state import State
from nodes.conversation import recent_turns


async def respond_chat(state: State, runtime: Runtime[Context]) -> dict:
    """Write the coach's answer (main model). Its chunks stream to the user through LangGraph's
    "messages" stream; this node keeps the whole text for the result."""
    started = time.perf_counter()
    chunks: list[AIMessageChunk] = []
    plan = ChatPlan.model_validate(state["plan"])
    async for chunk in runtime.context.llm.stream_chat(recent_turns(state), plan, state["context"]):
        chunks.append(chunk)  # merged once at the end: `+` per chunk rebuilds the message every time
    answer = add_ai_message_chunks(chunks[0], *chunks[1:]) if chunks else None
    reply = answer.text.strip() if answer is not None else ""
    if not reply:
        raise LLMError("the model returned an empty answer", code="LLM_EMPTY_OUTPUT", retryable=True)
    usage = answer.usage_metadata or {}
    record = usage_record(
        "respond_chat",
        answer.response_metadata.get("model_name", runtime.context.llm.name),
        input_tokens=usage.get("input_tokens", 0),
        output_tokens=usage.get("output_tokens", 0),
        thinking_tokens=(usage.get("output_token_details") or {}).get("reasoning", 0),
        latency_ms=(time.perf_counter() - started) * 1000,
        # Part of input_tokens served from the provider's context cache (None: no cache reported).
        cached_input_tokens=(usage.get("input_token_details") or {}).get("cache_read"),
    )
    return {"final": {"reply": answer.text}, "action": plan.action, "status": "SUCCEEDED", "usage": [record]}
