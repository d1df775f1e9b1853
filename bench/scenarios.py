"""The bench's requests, one per intent, and what the Gemini stand-in answers each node.

Each scenario names its model calls in stages (`stages`, by node): the calls of one stage run side
by side, the stages one after another. The sum of each stage's slowest call, as the stand-in timed
them, is the request's critical path — no worker, however fast, can answer sooner. The plain sum of
every call of the stages is what the same calls take one after another (`sequential_ms`). The
stand-in tells the nodes apart by the JSON schema a call asks for (the chat answer asks for none
and streams), and the scenarios apart by their message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.config import OutputTokens
from standins.gemini import CANNED_PUSH_DAY, Recorded, Reply

DEMO_USER = "user-67890"  # Alex: three active routines in the demo data


@dataclass(frozen=True)
class Scenario:
    name: str
    intent: str  # what the router answers
    message: str
    stages: tuple[tuple[str, ...], ...]  # nodes whose model calls run side by side, stage after stage
    status: str  # the result the request must end with

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(node for stage in self.stages for node in stage)

    def request(self, request_id: str, n: int | None = None) -> dict[str, Any]:
        """`n` makes the message unique (users rarely send the same words): nothing the worker
        caches by text, such as a query embedding, is reused across the bench's requests."""
        message = self.message if n is None else f"{self.message} ({n})"
        return {
            "requestId": request_id,
            "userId": DEMO_USER,
            "stream": True,
            "metadata": {},
            "conversation_history": [{"role": "user", "content": message}],
        }


# Every request starts with the router and, beside it, the chat planner (used by chat only).
BESIDE_ROUTER = ("route_intent", "plan_chat")
# Messages that no prompt example uses, so the stand-in recognises them in any prompt.
SCENARIOS = {
    "chat": Scenario(
        "chat",
        "CHAT_RESPONSE",
        "오늘 운동 뭐 해야 돼? 컨디션은 괜찮은 편이야",
        (BESIDE_ROUTER, ("respond_chat",)),
        "SUCCEEDED",
    ),
    "generate": Scenario(
        "generate",
        "GENERATE_ROUTINE",
        "주 4회 상하체 분할 근비대 프로그램 새로 짜줘",
        (BESIDE_ROUTER, ("generate_routine",)),
        "SUCCEEDED",
    ),
    "update": Scenario(
        "update",
        "UPDATE_ROUTINE",
        "푸쉬데이 벤치프레스를 덤벨 벤치프레스로 교체해줘",
        (BESIDE_ROUTER, ("update_routine",)),
        "SUCCEEDED",
    ),
    "clarify": Scenario("clarify", "CLARIFY", "음… 그거 있잖아", (BESIDE_ROUTER,), "CLARIFY"),
}

# The node a stand-in call belongs to, by the schema it asks for; the streamed answer has none.
NODE_BY_SCHEMA = {
    "RouteDecision": "route_intent",
    "ChatPlan": "plan_chat",
    "MemoryNotes": "remember",
    "Program": "generate_routine",
    "RoutineUpdate": "update_routine",
}


def node_of(call: dict[str, Any]) -> str:
    if call["method"] == "streamGenerateContent":
        return "respond_chat"
    return NODE_BY_SCHEMA.get(call.get("schema") or "", "unknown")


CHAT_SENTENCES = [
    "Alex님, 오늘은 Push Day A 차례예요!",
    "바벨 벤치프레스 4세트 × 8회(70kg)로 시작해서 가슴을 충분히 예열하세요.",
    "이어서 인클라인 덤벨 프레스 3세트 × 10회(24kg)로 윗가슴을 채우고,",
    "오버헤드 프레스 3세트 × 8회로 어깨를 마무리하면 좋아요.",
    "세트 사이 휴식은 90초에서 2분 정도가 적당하고, 마지막 세트는 한두 개 여유를 남기세요.",
    "컨디션이 괜찮다고 하셨으니 지난번보다 2.5kg 올려서 시도해 봐도 좋겠어요.",
    "운동 전에는 가벼운 무게로 워밍업 2세트를 꼭 하시고, 끝나면 가슴과 어깨 스트레칭을 잊지 마세요.",
    "물은 충분히 드시고, 오늘 운동이 끝나면 기록을 남겨 주세요. 다음 루틴은 Pull Day예요.",
]
CHAT_REPLY = " ".join(CHAT_SENTENCES * 2)  # about 150 words: one streamed chunk per word


def _day(name: str, order: int, *codes_and_reps: tuple[str, int]) -> dict:
    return {
        "routine_name": name,
        "routine_order": order,
        "plans": [{"exercise_code": code, "sets": 3, "reps": reps} for code, reps in codes_and_reps],
    }


# What the request asks (4 days, hypertrophy) and what the node's checks hold it to: catalog
# exercises only, one routine per day, the profile's level and equipment.
PROGRAM = {
    "program_name": "주 4회 상하체 분할",
    "goal": "HYPERTROPHY",
    "weeks": 4,
    "days_per_week": 4,
    "experience_level": "INTERMEDIATE",
    "notes": "상체/하체를 번갈아",
    "routines": [
        _day("상체 A", 1, ("BARBELL_BENCH_PRESS", 8), ("BARBELL_ROW", 10), ("OVERHEAD_PRESS", 10)),
        _day("하체 A", 2, ("BARBELL_BACK_SQUAT", 8), ("ROMANIAN_DEADLIFT", 10), ("LEG_CURL", 12)),
        _day("상체 B", 3, ("INCLINE_DUMBBELL_PRESS", 10), ("LAT_PULLDOWN", 12), ("DUMBBELL_LATERAL_RAISE", 15)),
        _day("하체 B", 4, ("LEG_PRESS", 12), ("HIP_THRUST", 10), ("STANDING_CALF_RAISE", 15)),
    ],
}
SWAPPED_PUSH_DAY = [
    {
        **CANNED_PUSH_DAY[0],
        "exercise_code": "DUMBBELL_BENCH_PRESS",
        "exercise_name": "덤벨 벤치프레스",
        "weight_kg": 28,
    },
    *CANNED_PUSH_DAY[1:],
]
ROUTINE_UPDATE = {
    "routine_name": "Push Day A",
    "routine_order": 1,
    "summary": "벤치프레스를 덤벨로 바꿨어요.",
    "changes": [{"op": "swap", "exercise_code": "BARBELL_BENCH_PRESS", "new_exercise_code": "DUMBBELL_BENCH_PRESS"}],
    "updated_routine": {"routine_name": "Push Day A", "routine_order": 1, "plans": SWAPPED_PUSH_DAY},
}
CHAT_PLAN = {
    "action": "GET_ACTIVE_ROUTINES",
    "required_context": ["active_routines", "user_memory", "profile"],
    "search_terms": [],
    "memory_query": "부상, 컨디션",
    "memories_to_save": [],
}
# The facts the memory extraction finds (GENERATE / UPDATE / CLARIFY have no chat plan to carry them).
FACTS = {"generate": ["주 4회 운동할 수 있어요"], "update": [], "clarify": []}


class BenchResponder:
    """The stand-in's answers: realistic output sizes (which the stand-in paces at the model's
    rate); thinking is left in the time to first token."""

    def __init__(self, tokens: OutputTokens):
        self.tokens = tokens

    def __call__(self, recorded: Recorded) -> Reply:
        scenario = _scenario(recorded.user_text)
        if scenario is None:
            return Reply.error(400, "FAILED_PRECONDITION", "bench stand-in: not a bench message")
        node = node_of({"method": recorded.method, "schema": recorded.schema_title})
        out = self.tokens
        if node == "route_intent":
            terms = ["덤벨 벤치프레스"] if scenario.name == "update" else []
            return Reply.json(
                {"intent": scenario.intent, "confidence": 0.93, "reason": "bench", "search_terms": terms},
                prompt_tokens=900,
                output_tokens=out.route,
            )
        if node == "plan_chat":
            return Reply.json(CHAT_PLAN, prompt_tokens=700, output_tokens=out.plan)
        if node == "remember":
            return Reply.json(
                {"memories_to_save": FACTS.get(scenario.name, [])}, prompt_tokens=400, output_tokens=out.remember
            )
        if node == "generate_routine":
            return Reply.json(PROGRAM, prompt_tokens=2500, output_tokens=out.program)
        if node == "update_routine":
            return Reply.json(ROUTINE_UPDATE, prompt_tokens=1300, output_tokens=out.update)
        if node == "respond_chat":
            return Reply.answer(CHAT_REPLY, prompt_tokens=1500, output_tokens=out.chat)
        return Reply.error(400, "FAILED_PRECONDITION", f"bench stand-in: no answer for {recorded.schema_title}")


def _scenario(text: str) -> Scenario | None:
    for scenario in SCENARIOS.values():
        if scenario.message in text:
            return scenario
    return None
