"""Each node alone with the real embedded adapters — the offline provider, the embedded VM API and
an in-memory Qdrant: a fixed state in, its partial state update out (snapshotted). What the demo
answers, node by node; the nodes' own rules on a scripted model are in test_node_updates.py."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from langgraph.runtime import Runtime

from adapters.llm.base import Generated
from core.errors import ContextMissing, VMAuthError, VMUnavailable
from graph.context import Context
from nodes.clarify import clarify
from nodes.context_sources import settle
from nodes.gather_context import gather_context
from nodes.generate_routine import generate_routine
from nodes.plan_chat import plan_chat
from nodes.prefetch_context import prefetch_context
from nodes.remember import remember
from nodes.respond_chat import respond_chat
from nodes.route_intent import route_intent
from nodes.update_routine import update_routine
from tests.conftest import DEMO_USER, OTHER_USER, request, stable

CHAT_PLAN = {
    "action": "GET_ACTIVE_ROUTINES",
    "required_context": ["active_routines", "user_memory", "profile"],
    "search_terms": [],
    "memory_query": "부상, 통증",
}


def chat_route(confidence=0.99):
    return {
        "intent": "CHAT_RESPONSE",
        "confidence": confidence,
        "proposed": "CHAT_RESPONSE",
        "reason": "test",
        "search_terms": [],
    }


# --- route_intent -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message, intent",
    [
        ("오늘 운동 뭐 해야 돼?", "CHAT_RESPONSE"),
        ("새 4주 근비대 프로그램 만들어줘", "GENERATE_ROUTINE"),
        ("푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘", "UPDATE_ROUTINE"),
        ("음…", "CLARIFY"),
    ],
)
async def test_route_intent(message, intent, runtime, snapshot):
    update = await route_intent(request(message), runtime)
    assert update["route"]["intent"] == intent
    assert stable(update) == snapshot


def runtime_with(context: Context, **changes) -> Runtime[Context]:
    return Runtime(context=replace(context, **changes))


async def test_route_intent_low_confidence_asks(context):
    update = await route_intent(request("오늘 운동 뭐 해야 돼?"), runtime_with(context, min_confidence=1.0))
    assert update["route"]["intent"] == "CLARIFY"
    assert update["route"]["proposed"] == "CHAT_RESPONSE"


# --- plan_chat ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message, action",
    [
        ("오늘 운동 뭐 해야 돼?", "GET_ACTIVE_ROUTINES"),
        ("벤치프레스 자세 알려줘", "SEARCH_EXERCISES"),
        ("how much protein should I eat?", "GENERAL_ADVICE"),
        ("내가 전에 말했던 부상 기억해?", "RECALL_MEMORY"),
    ],
)
async def test_plan_chat(message, action, runtime, snapshot):
    update = await plan_chat(request(message), runtime)  # it runs beside the router: no route yet
    assert update["plan"]["action"] == action
    assert stable(update) == snapshot


# --- gather_context -----------------------------------------------------------------------------


async def test_gather_context_fetches_only_the_plan(runtime, memory, snapshot):
    await memory.add(DEMO_USER, [("m1", "지난주에 왼쪽 무릎을 다쳤어요")])
    await memory.add(OTHER_USER, [("m1", "지난주에 오른쪽 무릎을 다쳤어요")])
    state = {**request("오늘 운동 뭐 해야 돼?"), "route": chat_route(), "plan": CHAT_PLAN}
    update = await gather_context(state, runtime)
    context = update["context"]
    assert set(context) == {"active_routines", "user_memory", "profile", "degraded"}  # no catalog asked
    assert [m["text"] for m in context["user_memory"]] == ["지난주에 왼쪽 무릎을 다쳤어요"]
    assert stable(update) == snapshot


async def test_gather_context_searches_catalog_terms(runtime):
    plan = {
        "action": "SEARCH_EXERCISES",
        "required_context": ["exercise_catalog"],
        "search_terms": ["벤치프레스", "rack pulls"],
        "memory_query": None,
    }
    update = await gather_context({**request("벤치프레스랑 rack pulls"), "route": chat_route(), "plan": plan}, runtime)
    codes = [i["exercise_code"] for i in update["context"]["exercise_catalog"]]
    assert codes[0] == "BARBELL_BENCH_PRESS" and "RACK_PULL" in codes
    assert len(codes) == len(set(codes))


class FailingVM:
    """The embedded VM API with some endpoints down."""

    def __init__(self, inner, down: set[str]):
        self.inner, self.down = inner, down
        self.calls: list[str] = []

    def __getattr__(self, name):
        async def call(*args):
            self.calls.append(name)
            if name in self.down:
                from core.errors import VMUnavailable

                raise VMUnavailable(f"VM API {name} failed with HTTP 503")
            return await getattr(self.inner, name)(*args)

        return call


async def test_gather_context_degrades_chat(context, vm):
    runtime = runtime_with(context, vm=FailingVM(vm, {"get_active_routines"}))
    state = {**request("오늘 운동 뭐 해야 돼?"), "route": chat_route(), "plan": CHAT_PLAN}
    update = await gather_context(state, runtime)
    assert update["context"]["degraded"] == ["active_routines"]
    assert update["context"]["profile"]["username"] == "Alex"


async def test_gather_context_generate_needs_its_baseline(context, vm):
    failing = FailingVM(vm, {"get_profile"})
    state = {**request("새 프로그램 짜줘"), "route": {**chat_route(), "intent": "GENERATE_ROUTINE"}}
    with pytest.raises(ContextMissing, match="profile"):
        await gather_context(state, runtime_with(context, vm=failing))
    assert {"get_active_routines", "get_profile", "search_exercises"} <= set(failing.calls)


async def test_gather_context_caps_catalog_searches(context, vm):
    counting = FailingVM(vm, set())
    runtime = runtime_with(context, vm=counting, catalog_max_searches=2)
    plan = {
        "action": "SEARCH_EXERCISES",
        "required_context": ["exercise_catalog"],
        "search_terms": ["스쿼트", "벤치프레스", "데드리프트", "풀업"],
        "memory_query": None,
    }
    await gather_context({**request("x"), "route": chat_route(), "plan": plan}, runtime)
    assert counting.calls.count("search_exercises") == 2


# --- prefetch_context (beside route_intent) and what gather_context makes of it ---------------


class CountingMemory:
    """A memory store that counts its searches."""

    def __init__(self, inner):
        self.inner, self.searches = inner, []

    async def search(self, user_id, query, k):
        self.searches.append(query)
        return await self.inner.search(user_id, query, k)


async def test_prefetch_context_fetches_what_most_routes_read(context, vm, memory, snapshot):
    counting_memory = CountingMemory(memory)
    state = request("무릎이 좀 아픈데 오늘 운동 뭐 해야 돼?")
    update = await prefetch_context(state, runtime_with(context, memory=counting_memory))
    prefetched = update["prefetched"]
    assert set(prefetched) == {"active_routines", "profile"}
    assert [r["routine_name"] for r in prefetched["active_routines"]["value"]][:1] == ["Push Day A"]
    assert prefetched["profile"]["value"]["username"] == "Alex"
    # Not the memories: a chat plan recalls them with its own query, GENERATE beside its catalog.
    assert counting_memory.searches == []
    assert stable(update) == snapshot


async def test_prefetch_context_keeps_failures_instead_of_raising(context, vm):
    update = await prefetch_context(
        request("새 프로그램 짜줘"), runtime_with(context, vm=FailingVM(vm, {"get_profile"}))
    )
    prefetched = update["prefetched"]
    assert prefetched["profile"] == {
        "error": {"code": "VM_UNAVAILABLE", "retryable": True, "message": "VM API get_profile failed with HTTP 503"}
    }
    assert "value" in prefetched["active_routines"]


async def test_gather_context_reuses_the_prefetch(context, vm, memory):
    counting_vm, counting_memory = FailingVM(vm, set()), CountingMemory(memory)
    runtime = runtime_with(context, vm=counting_vm, memory=counting_memory)
    state = {**request("새 4주 근비대 프로그램 만들어줘"), "route": {**chat_route(), "intent": "GENERATE_ROUTINE"}}
    state = {**state, **(await prefetch_context(state, runtime))}
    fetched_before = (list(counting_vm.calls), list(counting_memory.searches))

    update = await gather_context(state, runtime)

    # Only the catalog and the memories were left to fetch: routines and profile came from the prefetch.
    # (the seven muscle groups, then names: see test_vm_minimal.py for a VM that searches names only)
    assert counting_vm.calls[len(fetched_before[0]) :] == ["search_exercises"] * (7 + context.catalog_max_searches)
    assert fetched_before[1] == [] and counting_memory.searches == ["새 4주 근비대 프로그램 만들어줘"]
    fresh = await gather_context({k: v for k, v in state.items() if k != "prefetched"}, runtime)
    assert update == fresh  # the same context as fetching it all now


async def test_gather_context_recalls_memories_with_the_plans_own_query(context, vm, memory):
    counting_vm, counting_memory = FailingVM(vm, set()), CountingMemory(memory)
    runtime = runtime_with(context, vm=counting_vm, memory=counting_memory)
    state = {**request("오늘 운동 뭐 해야 돼?"), "route": chat_route(), "plan": CHAT_PLAN}
    state = {**state, **(await prefetch_context(state, runtime))}
    calls_before = len(counting_vm.calls)
    await gather_context(state, runtime)
    assert counting_vm.calls[calls_before:] == []  # routines and profile reused
    assert counting_memory.searches == ["부상, 통증"]  # the planner's query, once


@pytest.mark.parametrize(
    "error, expected",
    [
        (VMUnavailable("VM API get_profile failed with HTTP 503"), ContextMissing),
        (VMAuthError("VM API rejected the worker's token (HTTP 401) on GET /users/{userId}/profile"), VMAuthError),
    ],
)
async def test_a_failed_prefetch_counts_like_a_failed_fetch(error, expected, context, vm):
    down = FailingVM(vm, set())
    runtime = runtime_with(context, vm=down)
    generate = {**request("새 프로그램 짜줘"), "route": {**chat_route(), "intent": "GENERATE_ROUTINE"}}
    prefetched = (await prefetch_context(generate, runtime))["prefetched"]
    prefetched["profile"] = settle(error)
    with pytest.raises(expected, match="profile") as raised:
        await gather_context({**generate, "prefetched": prefetched}, runtime)
    assert raised.value.code == expected.code
    # In chat the same failure only degrades the answer.
    chat = {**request("오늘 운동 뭐 해야 돼?"), "route": chat_route(), "plan": CHAT_PLAN, "prefetched": prefetched}
    update = await gather_context(chat, runtime)
    assert update["context"]["degraded"] == ["profile"] and "profile" not in update["context"]


# --- respond_chat -------------------------------------------------------------------------------


async def gathered(runtime, message, plan=CHAT_PLAN, user=DEMO_USER):
    state = {**request(message, user_id=user), "route": chat_route(), "plan": plan}
    return {**state, **(await gather_context(state, runtime))}


async def test_respond_chat_uses_todays_routine(runtime, snapshot):
    update = await respond_chat(await gathered(runtime, "오늘 운동 뭐 해야 돼?"), runtime)
    reply = update["final"]["reply"]
    assert "Push Day A" in reply and "바벨 벤치프레스 4세트 × 8회 · 70kg" in reply
    assert update["status"] == "SUCCEEDED"
    assert stable(update) == snapshot


async def test_respond_chat_differs_with_context(runtime):
    alex = await respond_chat(await gathered(runtime, "오늘 운동 뭐 해야 돼?"), runtime)
    minji = await respond_chat(await gathered(runtime, "오늘 운동 뭐 해야 돼?", user=OTHER_USER), runtime)
    assert "Full Body B" in minji["final"]["reply"] and "Minji" in minji["final"]["reply"]
    assert alex["final"]["reply"] != minji["final"]["reply"]


async def test_respond_chat_mentions_memory_and_missing_context(context, vm, memory):
    await memory.add(DEMO_USER, [("m1", "I hurt my left knee last week")])
    runtime = runtime_with(context, vm=FailingVM(vm, {"get_active_routines"}))
    update = await respond_chat(await gathered(runtime, "what should I train today?"), runtime)
    reply = update["final"]["reply"]
    assert "left knee" in reply
    assert "couldn't load your routines" in reply


# --- generate_routine ---------------------------------------------------------------------------


async def test_generate_routine_program_from_catalog(runtime, snapshot):
    state = {**request("새 4주 근비대 프로그램 만들어줘"), "route": {**chat_route(), "intent": "GENERATE_ROUTINE"}}
    state = {**state, **(await gather_context(state, runtime))}
    update = await generate_routine(state, runtime)
    program = update["final"]["program"]
    catalog = {i["exercise_code"] for i in state["context"]["exercise_catalog"]}
    assert program["weeks"] == 4 and program["goal"] == "HYPERTROPHY"
    assert all(p["exercise_code"] in catalog for r in program["routines"] for p in r["plans"])
    assert stable(update) == snapshot


# --- update_routine -----------------------------------------------------------------------------


async def test_update_routine_swaps_in_the_right_routine(runtime, snapshot):
    message = "푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘"
    state = {
        **request(message),
        "route": {**chat_route(), "intent": "UPDATE_ROUTINE", "search_terms": ["벤치프레스", "덤벨 프레스"]},
    }
    state = {**state, **(await gather_context(state, runtime))}
    update = await update_routine(state, runtime)
    change = update["final"]["routine_update"]
    assert change["routine_name"] == "Push Day A"
    assert change["changes"] == [
        {"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "DUMBBELL_BENCH_PRESS"}
    ]
    before = next(r for r in state["context"]["active_routines"] if r["routine_order"] == 1)["plans"]
    after = change["updated_routine"]["plans"]
    assert [p["exercise_code"] for p in after[1:]] == [p["exercise_code"] for p in before[1:]]
    assert stable(update) == snapshot


async def test_update_routine_without_routines_is_context_missing(runtime):
    state = {
        **request("스쿼트 5세트로 바꿔줘", user_id="user-unknown"),
        "context": {"active_routines": [], "exercise_catalog": [], "degraded": []},
    }
    with pytest.raises(ContextMissing):
        await update_routine(state, runtime)


# --- clarify ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message, proposed",
    [
        ("음…", "CLARIFY"),
        ("루틴 좀", "GENERATE_ROUTINE"),
        ("hmm, my routine?", "UPDATE_ROUTINE"),
        ("그거 알려줘", "CHAT_RESPONSE"),
    ],
)
async def test_clarify(message, proposed, runtime, snapshot):
    state = {
        **request(message),
        "route": {"intent": "CLARIFY", "confidence": 0.4, "proposed": proposed, "reason": "test", "search_terms": []},
    }
    update = await clarify(state, runtime)
    assert update["status"] == "CLARIFY" and update["final"]["question"]
    assert update == snapshot


# --- remember -----------------------------------------------------------------------------------


async def recalled(memory, user, query="부상, 통증, injury, pain"):
    return [m["text"] for m in await memory.search(user, query, 10)]


async def test_remember_stores_the_planned_facts(runtime, memory, snapshot):
    plan = {
        **CHAT_PLAN,
        "memories_to_save": ["I hurt my left knee last week", "  I train at home  ", "i train at home", ""],
    }
    state = {
        **request("I hurt my left knee last week. I train at home, what now?", request_id="req-mem-1"),
        "route": chat_route(),
        "plan": plan,
    }
    update = await remember(state, runtime)
    assert update["remembered"] == {"saved": 2}
    assert [c["node"] for c in update["usage"]] == ["remember"]  # the consolidation, nothing known yet
    stored = await memory.search(DEMO_USER, "knee injury", 10)
    assert await recalled(memory, OTHER_USER) == []
    assert stable({"update": update, "stored": stored}) == snapshot


async def test_remember_asks_the_model_without_a_chat_plan(runtime, memory, snapshot):
    state = {
        **request("허리 디스크가 있어서 데드리프트는 못 해요. 새 루틴 짜줘", request_id="req-mem-2"),
        "route": {**chat_route(), "intent": "GENERATE_ROUTINE"},
    }
    update = await remember(state, runtime)
    assert update["remembered"] == {"saved": 1}
    assert [c["node"] for c in update["usage"]] == ["remember"]
    assert await recalled(memory, DEMO_USER, "허리 부상") == ["허리 디스크가 있어요"]
    assert stable(update) == snapshot


async def test_remember_is_idempotent_per_request(runtime, memory):
    state = {
        **request("x", request_id="req-mem-3"),
        "route": chat_route(),
        "plan": {**CHAT_PLAN, "memories_to_save": ["왼쪽 무릎을 다쳤어요", "주 3회 운동해요"]},
    }
    for _ in range(3):  # redeliveries of the same request
        await remember(state, runtime)
    everything = await memory.search(DEMO_USER, "무릎 운동", 50)
    assert sorted(m["text"] for m in everything) == ["왼쪽 무릎을 다쳤어요", "주 3회 운동해요"]


async def test_remember_updates_a_restated_fact_in_place(runtime, memory):
    told = {**request("I hurt my left knee last week", request_id="req-told"), "route": chat_route()}
    told["plan"] = {**CHAT_PLAN, "memories_to_save": ["I hurt my left knee last week"]}
    await remember(told, runtime)
    [before] = await memory.search(DEMO_USER, "knee injury", 10)

    whole = "I hurt my left knee last week, it still hurts when I squat"
    again = {**request(whole, request_id="req-again"), "route": chat_route()}
    again["plan"] = {**CHAT_PLAN, "memories_to_save": [whole]}
    update = await remember(again, runtime)
    assert update["remembered"] == {"saved": 0, "updated": 1}
    [after] = await memory.search(DEMO_USER, "knee injury", 10)
    assert (after["id"], after["text"], after["created_at"]) == (before["id"], whole, before["created_at"])

    # Told a third time, word for word: already known, nothing to do.
    assert (await remember({**again, "requestId": "req-third"}, runtime))["remembered"] == {"saved": 0}
    assert len(await memory.search(DEMO_USER, "knee injury", 10)) == 1


@pytest.mark.parametrize(
    "injury, healed",
    [("지난주에 왼쪽 무릎을 다쳤어요", "무릎 다 나았어"), ("I hurt my left knee last week", "My knee has healed")],
)
async def test_remember_retires_a_fact_that_stopped_being_true(runtime, memory, llm, injury, healed):
    told = {**request(injury, request_id="req-hurt"), "route": chat_route()}
    told["plan"] = {**CHAT_PLAN, "memories_to_save": [injury, "주 3회 운동해요"]}
    await remember(told, runtime)
    [knee] = [m for m in await memory.export(DEMO_USER) if m["text"] == injury]

    plan = (await llm.plan_chat([{"role": "user", "content": healed}])).value
    update = await remember(
        {**request(healed, request_id="req-healed"), "route": chat_route(), "plan": plan.model_dump()}, runtime
    )
    assert update["remembered"] == {"saved": 0, "retired": 1}
    assert injury not in [m["text"] for m in await memory.search(DEMO_USER, injury, 10)]  # never recalled again
    everything = {m["id"]: m for m in await memory.export(DEMO_USER)}
    assert everything[knee["id"]]["retired_at"] and everything[knee["id"]]["text"] == injury  # kept for audit
    assert [m["text"] for m in everything.values() if not m["retired_at"]] == ["주 3회 운동해요"]


class DecidingModel:
    """A model whose memory decision is fixed: what a confused or repeating model might answer."""

    def __init__(self, notes):
        self.notes = notes
        self.seen = None

    async def extract_memories(self, conversation, known=None, noted=None):
        self.seen = known
        return Generated(self.notes, [])


async def test_remember_checks_the_models_decision(context, memory):
    from core.schemas import MemoryEdit, MemoryNotes

    await memory.add(DEMO_USER, [("seed:0", "I train at home"), ("seed:1", "I hate running")])
    await memory.add(OTHER_USER, [("seed:0", "I hurt my right knee")])
    [theirs] = await memory.export(OTHER_USER)
    model = DecidingModel(
        MemoryNotes(
            memories_to_save=["i train at  HOME", "I love cycling"],  # the first is known word for word
            memories_to_update=[MemoryEdit(id=theirs["id"], text="hijacked"), MemoryEdit(id="nope", text="x")],
            memories_to_retire=[theirs["id"], "nope"],
        )
    )
    state = {**request("I train at home and I love cycling", request_id="req-check"), "route": chat_route()}
    state["route"]["intent"] = "GENERATE_ROUTINE"
    update = await remember(state, runtime_with(context, llm=model))
    assert update["remembered"] == {"saved": 1}  # only the new fact; no id it was not shown
    assert {m["text"] for m in model.seen} == {"I train at home", "I hate running"}  # this user's only
    assert sorted(m["text"] for m in await memory.export(DEMO_USER)) == [
        "I hate running",
        "I love cycling",
        "I train at home",
    ]
    assert await memory.export(OTHER_USER) == [theirs]


async def test_remember_marks_what_was_recalled(runtime, memory):
    await memory.add(DEMO_USER, [("seed:0", "I train at home")])
    [recalled] = await memory.search(DEMO_USER, "home training", 5)
    state = {**request("오늘 운동 뭐 해야 돼?"), "route": chat_route(), "plan": CHAT_PLAN}
    state["context"] = {"user_memory": [recalled], "degraded": []}
    assert await remember(state, runtime) == {"remembered": {"saved": 0}, "usage": []}
    [exported] = await memory.export(DEMO_USER)
    assert exported["recalled_at"] is not None


async def test_remember_nothing_to_save_writes_nothing(runtime, memory):
    state = {**request("오늘 운동 뭐 해야 돼?"), "route": chat_route(), "plan": CHAT_PLAN}
    assert await remember(state, runtime) == {"remembered": {"saved": 0}, "usage": []}
    assert await memory.search(DEMO_USER, "오늘 운동", 10) == []


async def test_remember_failure_is_reported_not_raised(context, caplog):
    from adapters.memory.qdrant import QdrantMemory
    from standins.qdrant import running_qdrant

    with running_qdrant() as server:
        url = server.url  # a Qdrant that was just there and is gone now
    unreachable = QdrantMemory(collection="m", url=url, timeout_s=2)
    runtime = runtime_with(context, memory=unreachable)
    state = {
        **request("I hurt my left knee last week", request_id="req-mem-4"),
        "route": chat_route(),
        "plan": {**CHAT_PLAN, "memories_to_save": ["I hurt my left knee last week"]},
    }
    update = await remember(state, runtime)
    assert update == {"remembered": {"saved": 0, "error": "MEMORY_UNAVAILABLE"}, "usage": []}
    assert any("memory write failed" in r.getMessage() for r in caplog.records)


class StalledMemory:
    """A memory store that never answers."""

    async def nearest(self, user_id, texts, k):
        await asyncio.sleep(60)


async def test_remember_does_not_hold_the_answer_hostage(context, monkeypatch):
    monkeypatch.setattr("nodes.remember.REMEMBER_TIMEOUT_S", 0.2)
    runtime = runtime_with(context, memory=StalledMemory())
    state = {
        **request("x", request_id="req-mem-5"),
        "route": chat_route(),
        "plan": {**CHAT_PLAN, "memories_to_save": ["주 3회 운동해요"]},
    }
    update = await asyncio.wait_for(remember(state, runtime), timeout=10)
    assert update["remembered"] == {"saved": 0, "error": "TIMEOUT"}
