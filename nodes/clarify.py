from __future__ import annotations

from langgraph.runtime import Runtime

from core.messages import messages_for
from graph.context import Context
from graph.state import State
from nodes.conversation import last_message

# The options offered, by what the router leaned towards (the questions are in core/messages/).
OPTIONS = {
    "ROUTINE": ["GENERATE_ROUTINE", "UPDATE_ROUTINE"],
    "ANY": ["CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE"],
    "DETAIL": ["CHAT_RESPONSE"],
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
    return {
        "final": {"question": messages_for(last_message(state)).CLARIFY[kind], "options": OPTIONS[kind]},
        "action": "ASK_CLARIFICATION",
        "status": "CLARIFY",
    }
