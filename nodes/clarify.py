from __future__ import annotations

from langgraph.runtime import Runtime

from core.lang import is_korean
from graph.context import Context
from graph.state import State
from nodes.conversation import last_message

# (Korean, English) question and the options offered, by what the router leaned towards.
QUESTIONS = {
    "ROUTINE": (
        "새 루틴을 만들까요, 아니면 지금 루틴을 바꿀까요?",
        "Should I create a new routine, or change your current one?",
        ["GENERATE_ROUTINE", "UPDATE_ROUTINE"],
    ),
    "ANY": (
        "어떤 걸 도와드릴까요? 오늘 운동 안내, 새 루틴 만들기, 지금 루틴 수정 중에서 말씀해 주세요.",
        "What can I help with? Today's workout, a new routine, or a change to your current routine?",
        ["CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE"],
    ),
    "DETAIL": (
        '질문을 조금만 더 자세히 말씀해 주시겠어요? 예: "오늘 운동 뭐 해야 돼?", "벤치프레스 자세 알려줘"',
        'Could you tell me a bit more? For example: "what should I train today?" or "how do I bench?"',
        ["CHAT_RESPONSE"],
    ),
}


async def clarify(state: State, runtime: Runtime[Context]) -> dict:
    """Ask the user a question that names the options, instead of guessing."""
    proposed = (state.get("route") or {}).get("proposed")
    if proposed in ("GENERATE_ROUTINE", "UPDATE_ROUTINE"):
        kind = "ROUTINE"
    elif proposed == "CHAT_RESPONSE":
        kind = "DETAIL"
    else:
        kind = "ANY"
    korean, english, options = QUESTIONS[kind]
    question = korean if is_korean(last_message(state)) else english
    return {
        "final": {"question": question, "options": options},
        "action": "ASK_CLARIFICATION",
        "status": "CLARIFY",
    }
