from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage

from adapters.llm.base import Conversation, Generated, usage_record
from adapters.llm.context_view import render_conversation
from adapters.llm.offline import answer, memories, planner, program, update
from adapters.llm.offline.router import IntentRouter
from adapters.llm.offline.streamer import TemplateStreamer, estimate_tokens
from adapters.prompts import Prompts
from core.schemas import ChatPlan, MemoryNotes, Program, RouteDecision, RoutineUpdate

MODEL = "offline"


class OfflineProvider:
    name = "offline"

    def __init__(self, prompts: Prompts, embeddings=None):
        if embeddings is None:
            from adapters.memory.embeddings import shared_embeddings

            embeddings = shared_embeddings()
        self._prompts = prompts
        self._embeddings = embeddings
        self._router = IntentRouter(prompts.routing_examples(), embeddings)
        self._streamer = TemplateStreamer()

    def warm_up(self) -> None:
        """Embed the labelled examples now rather than on the first request."""
        self._router.warm_up()

    async def route(self, conversation: Conversation) -> Generated[RouteDecision]:
        started = time.perf_counter()
        # The embedding model is native code: keep the event loop free while it runs.
        decision = await asyncio.to_thread(self._router.route, conversation)
        return Generated(decision, [self._usage("route_intent", conversation, decision.model_dump_json(), started)])

    async def plan_chat(self, conversation: Conversation) -> Generated[ChatPlan]:
        started = time.perf_counter()
        plan = planner.plan_chat(conversation[-1]["content"])
        plan.memories_to_save = memories.extract_memories(conversation[-1]["content"])
        return Generated(plan, [self._usage("plan_chat", conversation, plan.model_dump_json(), started)])

    async def stream_chat(
        self, conversation: Conversation, plan: ChatPlan, context: dict[str, Any]
    ) -> AsyncIterator[AIMessageChunk]:
        text = answer.write_answer(conversation, plan, context)
        messages = [
            SystemMessage(self._prompts.chat_response.system),
            HumanMessage(render_conversation(conversation)),
            HumanMessage(text),
        ]
        async for chunk in self._streamer.astream(messages):
            yield chunk

    async def generate_program(self, conversation: Conversation, context: dict[str, Any]) -> Generated[Program]:
        started = time.perf_counter()
        value = program.generate_program(conversation, context)
        return Generated(value, [self._usage("generate_routine", conversation, value.model_dump_json(), started)])

    async def update_routine(self, conversation: Conversation, context: dict[str, Any]) -> Generated[RoutineUpdate]:
        started = time.perf_counter()
        value = update.update_routine(conversation, context)
        return Generated(value, [self._usage("update_routine", conversation, value.model_dump_json(), started)])

    async def extract_memories(
        self, conversation: Conversation, known: list[dict[str, Any]] | None = None, noted: list[str] | None = None
    ) -> Generated[MemoryNotes]:
        started = time.perf_counter()
        facts = memories.extract_memories(conversation[-1]["content"]) if noted is None else noted
        # Embeddings are native code: off the event loop, as routing is.
        notes = await asyncio.to_thread(memories.consolidate, facts, known or [], self._similarity)
        return Generated(notes, [self._usage("remember", conversation, notes.model_dump_json(), started)])

    def _similarity(self, texts: list[str], others: list[str]) -> np.ndarray:
        """Cosine similarity of every text with every other (symmetric, query-to-query embeddings)."""
        vectors = np.asarray(self._embeddings.embed_queries([*texts, *others]), dtype=np.float64)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors[: len(texts)] @ vectors[len(texts) :].T

    def _usage(self, node: str, conversation: Conversation, output: str, started: float) -> dict:
        return usage_record(
            node,
            MODEL,
            input_tokens=estimate_tokens(render_conversation(conversation)),
            output_tokens=estimate_tokens(output),
            latency_ms=(time.perf_counter() - started) * 1000,
        )
