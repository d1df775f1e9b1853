"""Shared pieces of the Gemini tests: settings pointing the real client at the stand-in and scripted
model outputs that fit the demo data. The `gemini` and `gemini_deps` fixtures are in conftest.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings
from standins.gemini import CANNED_PUSH_DAY, GeminiStandIn, Recorded, Reply, canned_responder

REPO = Path(__file__).resolve().parent.parent

# Looks like a real key, so a leak would be found by a plain substring search.
KEY = "AIzaSyStandIn-secret-0123456789abcdef"


def gemini_settings(base_url: str, **overrides: Any) -> Settings:
    values = {
        "GOOGLE_API_KEY": KEY,
        "GEMINI_BASE_URL": base_url,
        "QDRANT_PATH": ":memory:",
        "PROMPTS_DIR": REPO / "prompts",
        # Quick backoff; the server-asked delays in the tests stay well below the maximum.
        "GEMINI_RETRY_BASE_DELAY_S": 0.01,
        "GEMINI_RETRY_MAX_DELAY_S": 2.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)


def planner_by_default(recorded: Recorded) -> Reply:
    """Unscripted calls: the planner (beside the router on every request) gets a plausible plan,
    which no route but chat uses; anything else a 400, as an unscripted call always did."""
    if recorded.schema_title == "ChatPlan":
        return canned_responder(recorded)
    return Reply.error(400, "FAILED_PRECONDITION", "stand-in: no reply scripted for this request")


def route(intent: str, confidence: float = 0.95, search_terms: list[str] | None = None, **usage: Any) -> Reply:
    return Reply.json(
        {"intent": intent, "confidence": confidence, "reason": "scripted", "search_terms": search_terms or []}, **usage
    )


def plan(action: str = "GET_ACTIVE_ROUTINES", required_context: list[str] | None = None, **usage: Any) -> Reply:
    return Reply.json(
        {
            "action": action,
            "required_context": ["active_routines", "profile"] if required_context is None else required_context,
            "search_terms": [],
            "memory_query": "injuries",
        },
        only_for="ChatPlan",
        **usage,
    )


def memories(*facts: str, **usage: Any) -> Reply:
    """The remember step's answer (beside GENERATE / UPDATE / CLARIFY): the durable facts to store.
    Scripted for its schema: the call runs concurrently with the answer's, in no fixed order."""
    return Reply.json({"memories_to_save": list(facts)}, only_for="MemoryNotes", **usage)


PROGRAM = {
    "program_name": "4주 근비대 프로그램",
    "goal": "HYPERTROPHY",
    "weeks": 4,
    "days_per_week": 2,
    "experience_level": "INTERMEDIATE",
    "notes": "주 2회",
    "routines": [
        {
            "routine_name": "상체",
            "routine_order": 1,
            "plans": [
                {
                    "exercise_code": "BARBELL_BENCH_PRESS",
                    "exercise_name": "바벨 벤치프레스",
                    "sets": 4,
                    "reps": 10,
                    "weight_kg": 60,
                },
                {"exercise_code": "BARBELL_ROW", "exercise_name": "바벨 로우", "sets": 4, "reps": 10, "weight_kg": 50},
            ],
        },
        {
            "routine_name": "하체",
            "routine_order": 2,
            "plans": [
                {
                    "exercise_code": "BARBELL_BACK_SQUAT",
                    "exercise_name": "바벨 백 스쿼트",
                    "sets": 4,
                    "reps": 8,
                    "weight_kg": 90,
                }
            ],
        },
    ],
}

ROUTINE_UPDATE = {
    "routine_name": "Push Day A",
    "routine_order": 1,
    "summary": "벤치프레스를 덤벨 벤치프레스로 바꿨어요.",
    "changes": [{"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "DUMBBELL_BENCH_PRESS"}],
    "updated_routine": {
        "routine_name": "Push Day A",
        "routine_order": 1,
        "plans": [
            {
                "exercise_code": "DUMBBELL_BENCH_PRESS",
                "exercise_name": "덤벨 벤치프레스",
                "sets": 4,
                "reps": 8,
                "weight_kg": 28,
            },
            *CANNED_PUSH_DAY[1:],
        ],
    },
}

CHAT_MESSAGE = "오늘 운동 뭐 해야 돼?"
GENERATE_MESSAGE = "새 4주 근비대 프로그램 만들어줘"
UPDATE_MESSAGE = "푸쉬데이에서 벤치프레스를 덤벨 프레스로 바꿔줘"


def by_schema(gemini: GeminiStandIn, title: str) -> Recorded:
    """The one request that asked for this JSON schema (calls beside each other arrive in any order)."""
    [found] = [r for r in gemini.requests if r.schema_title == title]
    return found


def without_remember(gemini: GeminiStandIn) -> list[Recorded]:
    """The requests but the remember step's: it runs beside the answer, so when the answer fails
    it may or may not have been sent before LangGraph cancelled it."""
    return [r for r in gemini.requests if r.schema_title != "MemoryNotes"]


def path_calls(gemini: GeminiStandIn) -> list[Recorded]:
    """The requests that run one after another (router, answer, their retries): without the
    planner's, which runs beside the router on every request, and the remember step's."""
    return [r for r in gemini.requests if r.schema_title not in ("ChatPlan", "MemoryNotes")]


def thinking_budget(recorded: Recorded) -> int | None:
    """The thinking budget a request carried."""
    return recorded.thinking_config.get("thinkingBudget")


def thinking_level(recorded: Recorded) -> str | None:
    """The thinking level a request carried ("LOW", ...)."""
    return recorded.thinking_config.get("thinkingLevel")
