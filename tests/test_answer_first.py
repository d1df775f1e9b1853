"""The plan beside the router, and the result published the moment the answer exists: the nodes
beside the answer (remember) finish after it, in the same `handle` call, and never change it."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.runner import handle
from core.errors import LLMUnavailable
from graph.graph import graph
from tests.conftest import request

CLARIFY_MESSAGE = "음…"  # the offline router cannot tell: a clarifying question
GENERATE_MESSAGE = "새 4주 근비대 프로그램 만들어줘"


class StalledExtraction:
    """The remember step's model call, held until the test lets it go."""

    def __init__(self, inner):
        self.inner = inner
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, conversation, known, noted):
        self.started.set()
        await self.release.wait()
        return await self.inner(conversation, known, noted)


class ResultWatcher:
    """Result emitter that notes what the remember step was doing when the result arrived."""

    def __init__(self, events, extraction: StalledExtraction):
        self.events = events
        self.extraction = extraction
        self.remember_done_at_result: list[bool] = []

    async def emit_result(self, event):
        self.remember_done_at_result.append(self.extraction.release.is_set())
        self.extraction.release.set()  # the result is out: the memory extraction may now end
        await self.events.emit_result(event)


async def test_a_question_leaves_before_the_memory_extraction_ends(deps, events, monkeypatch, caplog):
    extraction = StalledExtraction(deps.llm.extract_memories)
    monkeypatch.setattr(deps.llm, "extract_memories", extraction)
    watcher = deps.results = ResultWatcher(events, extraction)

    with caplog.at_level(logging.INFO, logger="reppy.runner"):
        outcome = await asyncio.wait_for(handle(request(CLARIFY_MESSAGE), deps), timeout=30)

    [result] = events.results
    assert outcome.status == result.status == "CLARIFY" and result.final["question"]
    assert extraction.started.is_set() and watcher.remember_done_at_result == [False]
    # remember ended after the result, in the same call, and said so in the log only.
    assert "after the result: remembered {'saved': 0}" in caplog.text
    assert "remembered" not in result.meta.model_dump(exclude_none=True)


@pytest.mark.parametrize("hung", ["model call", "memory store"])
async def test_a_step_beside_the_answer_past_the_deadline_is_cut_off_without_a_second_result(
    deps, events, monkeypatch, caplog, hung
):
    async def never(*args):
        await asyncio.sleep(30)

    if hung == "model call":  # cut by the invocation's deadline like any model call: its typed error
        monkeypatch.setattr(deps.llm, "extract_memories", never)
        expected = "after the result: remembered {'saved': 0, 'error': 'LLM_TIMEOUT'}"
    else:  # no adapter deadline here: the runner stops what still runs beside the answer
        monkeypatch.setattr(deps.memory, "nearest", never)
        expected = "nodes beside the answer cut off by the deadline"
    outcome = await asyncio.wait_for(handle(request(CLARIFY_MESSAGE), deps, timeout_s=1.0), timeout=10)
    [result] = events.results
    assert outcome.status == result.status == "CLARIFY" and result.error is None
    assert expected in caplog.text


async def test_the_plan_is_dropped_off_the_chat_route_but_its_usage_counts(deps, events):
    await handle(request(GENERATE_MESSAGE), deps)
    [result] = events.results
    assert result.status == "SUCCEEDED" and result.meta.intent == "GENERATE_ROUTINE"
    assert result.meta.action == "GENERATE_PROGRAM"  # not the planner's
    assert [c["node"] for c in result.usage["calls"]] == ["plan_chat", "route_intent", "generate_routine"]

    # The program's baseline context, not the plan's sources; and no plan facts were stored.
    state = await graph.ainvoke(request(GENERATE_MESSAGE, request_id="req-again"), context=deps.context())
    assert state["plan"] is not None
    assert {"active_routines", "profile", "exercise_catalog"} <= state["context"].keys()


@pytest.mark.parametrize(
    "message, status, error",
    [
        (GENERATE_MESSAGE, "SUCCEEDED", None),  # no other route needs the plan
        (CLARIFY_MESSAGE, "CLARIFY", None),
        ("오늘 운동 뭐 해야 돼?", "FAILED", "LLM_UNAVAILABLE"),  # chat does: the planner's own error
    ],
)
async def test_a_failed_planner_fails_only_the_chat_route(deps, events, monkeypatch, message, status, error):
    async def unavailable(conversation):
        raise LLMUnavailable("plan_chat: Gemini is unavailable (503 UNAVAILABLE)")

    monkeypatch.setattr(deps.llm, "plan_chat", unavailable)
    outcome = await handle(request(message), deps)
    [result] = events.results
    assert outcome.status == result.status == status
    assert (result.error.code if result.error else None) == error
    if error:
        assert result.error.retryable and "plan_chat" in result.error.message
