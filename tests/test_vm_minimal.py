"""Every intent against a VM that serves only the product spec's minimal fields: catalog items with just
`exercise_code` and `main_muscle_code`, routines whose plans lack names and some numbers (or send
`4.0`), a profile of username, level and goal — and a search that matches names only. Over real
HTTP (the VM stub) through the real client, so the typed readers are part of what is tested."""

from __future__ import annotations

import copy
import json

import pytest

from adapters.vm_api.demo import DemoStore, demo_data
from adapters.vm_api.http import HttpVMApi
from app.dependencies import build_dependencies
from app.runner import handle
from standins.vm import TOKEN, running_stub
from tests.conftest import DEMO_USER, request


def minimal_data() -> dict:
    """The demo data cut down to what the product spec shows. In Push Day A the first plan sends its sets
    as 4.0, the second has no reps, the third no numbers at all."""
    data = copy.deepcopy(demo_data())
    user = data["users"][DEMO_USER]
    user["profile"] = {k: user["profile"][k] for k in ("username", "experience_level", "goal")}
    routines = [
        {
            "routine_name": r["routine_name"],
            "routine_order": r["routine_order"],
            "plans": [{k: p[k] for k in ("exercise_code", "sets", "reps")} for p in r["plans"]],
        }
        for r in user["routines"]
    ]
    push = routines[0]["plans"]
    push[0]["sets"] = 4.0
    del push[1]["reps"]
    del push[2]["sets"], push[2]["reps"]
    user["routines"] = routines
    exercises = [
        {"exercise_code": e["exercise_code"], "main_muscle_code": e["main_muscle_code"]} for e in data["exercises"]
    ]
    # No muscle words: the stub's search matches exercise names (here: codes) only.
    return {"users": {DEMO_USER: user}, "exercises": exercises}


@pytest.fixture
def minimal_vm():
    with running_stub(store=DemoStore(minimal_data())) as server:
        yield server


@pytest.fixture
async def minimal_deps(minimal_vm, settings, llm, memory, events):
    client = HttpVMApi(minimal_vm.base_url, TOKEN, backoff_s=0.01)
    yield build_dependencies(settings, llm=llm, vm=client, memory=memory, tokens=events, results=events)
    await client.aclose()


async def answer(deps, events, message: str):
    outcome = await handle(request(message, request_id=f"req-{len(events.results)}"), deps)
    result = events.results[-1]
    assert outcome.status == result.status
    text = json.dumps(result.final, ensure_ascii=False)
    assert "None" not in text and "null" not in text, text
    return result


async def test_chat_shows_codes_readably_and_unknown_numbers_as_unknown(minimal_deps, events):
    result = await answer(minimal_deps, events, "오늘 운동 뭐 해야 돼?")
    assert result.status == "SUCCEEDED" and not getattr(result.meta, "degraded", None)
    reply = result.final["reply"]
    assert "1. Barbell Bench Press 4세트 × 8회" in reply  # 4.0 is 4, the code made readable
    assert "2. Incline Dumbbell Press 3세트 × ?회" in reply
    assert "3. Overhead Press (세트·횟수 미정)" in reply


async def test_chat_exercise_search_by_name_only(minimal_deps, minimal_vm, events):
    result = await answer(minimal_deps, events, "what muscles does the bench press work?")
    assert result.status == "SUCCEEDED" and result.meta.action == "SEARCH_EXERCISES"
    assert "• Barbell Bench Press — a chest exercise." in result.final["reply"]


@pytest.mark.parametrize(
    "message, days, word",
    [("make me a 3 day program for 4 weeks", 3, "squat"), ("주 2회 6주 프로그램 짜줘", 2, "스쿼트")],
)
async def test_a_program_from_a_name_only_catalog(minimal_deps, minimal_vm, events, message, days, word):
    result = await answer(minimal_deps, events, message)
    assert result.status == "SUCCEEDED", result.error
    program = result.final["program"]
    assert program["days_per_week"] == len(program["routines"]) == days
    catalog = {e["exercise_code"] for e in minimal_data()["exercises"]}
    assert {p["exercise_code"] for r in program["routines"] for p in r["plans"]} <= catalog
    # Searched by muscle group and by names: the exercises of the user's routines, common words.
    assert {"CHEST", "Barbell Bench Press", word} <= set(minimal_vm.searches)
    reply = result.final["reply"]
    assert f"{days}" in reply.splitlines()[0] and len(reply.splitlines()) > days


async def test_updates_of_plans_without_some_numbers(minimal_deps, events):
    result = await answer(minimal_deps, events, "one more set of barbell bench press")
    assert result.status == "SUCCEEDED", result.error
    (change,) = result.final["routine_update"]["changes"]
    assert (change["field"], change["before"], change["after"]) == ("sets", 4, 5)
    assert result.final["reply"].splitlines()[1] == "• Barbell Bench Press sets 4 → 5"

    result = await answer(minimal_deps, events, "swap barbell row for seated cable row")
    assert result.status == "SUCCEEDED", result.error
    assert "swapped Barbell Row for Seated Cable Row" in result.final["reply"]

    result = await answer(minimal_deps, events, "remove overhead press from push day")
    assert result.status == "SUCCEEDED", result.error
    kept = result.final["routine_update"]["updated_routine"]["plans"]
    assert {"exercise_code": "INCLINE_DUMBBELL_PRESS", "sets": 3} in kept  # its unknown reps stay unknown


async def test_clarifying_questions_name_exercises_readably(minimal_deps, events):
    result = await answer(minimal_deps, events, "루틴 바꿔줘")
    assert result.status == "CLARIFY"
    assert "Barbell Bench Press" in result.final["question"] == result.final["reply"]
    result = await answer(minimal_deps, events, "음")
    assert result.status == "CLARIFY" and result.final["reply"]


async def test_an_empty_catalog_is_not_retryable(settings, llm, memory, events):
    data = {**minimal_data(), "exercises": []}
    with running_stub(store=DemoStore(data)) as server:
        client = HttpVMApi(server.base_url, TOKEN, backoff_s=0.01)
        deps = build_dependencies(settings, llm=llm, vm=client, memory=memory, tokens=events, results=events)
        try:
            await handle(request("make me a 3 day program"), deps)
        finally:
            await client.aclose()
    (result,) = events.results
    assert (result.status, result.error.code, result.error.retryable) == ("FAILED", "CONTEXT_MISSING", False)


@pytest.mark.parametrize(
    "sent, read",
    [(4, 4), (4.0, 4), ("4", 4), (3.5, None), (-1, None), (True, None), ("four", None), (None, None)],
)
def test_counts_the_vm_sends_are_read_or_unknown(sent, read):
    from adapters.vm_api.responses import ActiveRoutines, parse, plain

    body = {"routines": [{"routine_name": "A", "routine_order": 1.0, "plans": [{"exercise_code": "X", "sets": sent}]}]}
    (routine,) = parse(ActiveRoutines, body, "GET /users/{userId}/active-routines").routines
    assert plain(routine) == {"routine_name": "A", "routine_order": 1, "plans": [{"exercise_code": "X", "sets": read}]}
