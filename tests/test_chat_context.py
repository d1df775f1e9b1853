"""CHAT answers use the context that was actually gathered — today's routine, what the user told us,
the catalog, the profile — and say so, in the user's language, when a source could not be loaded
(never pretending it was empty)."""

from __future__ import annotations

import pytest
from langgraph.runtime import Runtime

from core.errors import MemoryUnavailable
from graph.context import Context
from nodes.gather_context import gather_context
from nodes.plan_chat import plan_chat
from nodes.respond_chat import respond_chat
from tests.conftest import DEMO_USER, OTHER_USER, request
from tests.test_offline_nodes import FailingVM


class FailingMemory:
    """The real memory store, with search down."""

    def __init__(self, inner):
        self.inner = inner

    async def search(self, user_id, query, k):
        raise MemoryUnavailable("Qdrant did not answer")

    async def nearest(self, user_id, texts, k):
        raise MemoryUnavailable("Qdrant did not answer")

    async def add(self, user_id, items):
        await self.inner.add(user_id, items)

    async def apply(self, user_id, changes):
        await self.inner.apply(user_id, changes)


def runtime_with(context: Context, *, vm=None, memory=None) -> Runtime[Context]:
    return Runtime(
        context=Context(
            llm=context.llm,
            vm=vm or context.vm,
            memory=memory or context.memory,
            min_confidence=0.5,
            catalog_max_searches=8,
            memory_top_k=5,
        )
    )


async def answer(runtime, message: str, user: str = DEMO_USER) -> tuple[str, dict]:
    """The chat path as the graph runs it: plan → gather exactly the plan → respond."""
    state = {
        **request(message, user_id=user),
        "route": {
            "intent": "CHAT_RESPONSE",
            "confidence": 0.9,
            "proposed": "CHAT_RESPONSE",
            "reason": "",
            "search_terms": [],
        },
    }
    state = {**state, **(await plan_chat(state, runtime))}
    state = {**state, **(await gather_context(state, runtime))}
    update = await respond_chat(state, runtime)
    return update["final"]["reply"], state


# --- uses what was gathered -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "message, user, expected",
    [
        ("오늘 운동 뭐 해야 돼?", DEMO_USER, ["Push Day A", "바벨 벤치프레스 4세트 × 8회 · 70kg"]),
        ("오늘 운동 뭐 해야 돼?", OTHER_USER, ["Full Body B", "덤벨 숄더 프레스 3세트 × 10회 · 8kg"]),
        ("what should I train today?", DEMO_USER, ["Push Day A", "Last time you did Leg Day A"]),
    ],
)
async def test_todays_workout_comes_from_the_users_routines(runtime, message, user, expected):
    reply, state = await answer(runtime, message, user)
    assert state["plan"]["action"] == "GET_ACTIVE_ROUTINES"
    assert all(text in reply for text in expected), reply


@pytest.mark.parametrize(
    "message, fact",
    [
        ("오늘 운동 뭐 해야 돼?", "지난주에 왼쪽 무릎을 다쳤어요"),
        ("what should I train today?", "I hurt my left knee last week"),
    ],
)
async def test_what_the_user_told_us_is_used(runtime, memory, message, fact):
    await memory.add(DEMO_USER, [("m1", fact)])
    reply, _ = await answer(runtime, message)
    assert fact in reply


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "벤치프레스 자세 알려줘",
            ["바벨 벤치프레스(Barbell Bench Press)", "가슴 운동", "Push Day A에 바벨 벤치프레스 4세트 × 8회"],
        ),
        ("how do I do a proper lat pulldown?", ["Lat Pulldown — a back exercise", "Pull Day A"]),
    ],
)
async def test_exercise_answers_come_from_the_catalog(runtime, message, expected):
    reply, state = await answer(runtime, message)
    assert state["plan"]["action"] == "SEARCH_EXERCISES" and state["context"]["exercise_catalog"]
    assert all(text in reply for text in expected), reply


@pytest.mark.parametrize("user, expected", [(DEMO_USER, "중급 단계, 주 3회"), (OTHER_USER, "초급 단계, 주 2회")])
async def test_advice_is_for_this_users_profile(runtime, user, expected):
    reply, _ = await answer(runtime, "단백질은 얼마나 먹어야 돼?", user)
    assert expected in reply and "1.6–2.2g" in reply


async def test_nothing_is_called_missing_when_everything_loaded(runtime):
    for message in ("오늘 운동 뭐 해야 돼?", "what should I train today?", "벤치프레스 자세 알려줘"):
        reply, state = await answer(runtime, message)
        assert state["context"]["degraded"] == []
        assert "불러오지 못" not in reply and "couldn't load" not in reply


# --- says when a source was unavailable -------------------------------------------------------------


@pytest.mark.parametrize(
    "message, down, said, not_said",
    [
        ("오늘 운동 뭐 해야 돼?", "get_active_routines", "루틴 정보를 불러오지 못했어요", "Push Day A"),
        ("what should I train today?", "get_active_routines", "couldn't load your routines", "Push Day A"),
        ("벤치프레스 자세 알려줘", "search_exercises", "운동 카탈로그를 불러오지 못해서", "찾지 못했어요"),
        (
            "how do I do a proper lat pulldown?",
            "search_exercises",
            "couldn't load the exercise catalog",
            "couldn't find",
        ),
        ("단백질은 얼마나 먹어야 돼?", "get_profile", "프로필 정보를 지금 불러오지 못해서", "중급"),
        ("how much protein should I eat?", "get_profile", "couldn't load your profile", "intermediate"),
    ],
)
async def test_an_unavailable_vm_source_is_named(context, vm, message, down, said, not_said):
    reply, state = await answer(runtime_with(context, vm=FailingVM(vm, {down})), message)
    assert state["context"]["degraded"], "the source should have failed"
    assert said in reply and not_said not in reply, reply


@pytest.mark.parametrize(
    "message, said, not_said",
    [
        ("내가 전에 말했던 부상 기억해?", "이전 대화 기록을 불러오지 못했어요", "아직 기억해 둔 내용이 없어요"),
        (
            "do you remember what I told you about my back?",
            "couldn't load what you told me before",
            "I don't have anything saved",
        ),
    ],
)
async def test_unavailable_memory_is_not_passed_off_as_empty(context, memory, message, said, not_said):
    reply, state = await answer(runtime_with(context, memory=FailingMemory(memory)), message)
    assert state["plan"]["action"] == "RECALL_MEMORY" and state["context"]["degraded"] == ["user_memory"]
    assert said in reply and not_said not in reply, reply
    assert reply.count("불러오지 못") + reply.count("couldn't load") == 1  # said once, not twice


async def test_empty_memory_is_said_to_be_empty(runtime):
    reply, state = await answer(runtime, "do you remember what I told you about my back?")
    assert state["context"]["degraded"] == [] and "I don't have anything saved" in reply
