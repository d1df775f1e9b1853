from __future__ import annotations

from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from nodes.conversation import recent_turns
from nodes.model_output import parsed


async def route_intent(state: State, runtime: Runtime[Context]) -> dict:
    """Decide CHAT_RESPONSE, GENERATE_ROUTINE, UPDATE_ROUTINE or CLARIFY (router model)."""
    routed, cost = await parsed(runtime.context.llm.route(recent_turns(state)), "router")
    if routed is None:  # an unparseable router answer falls back to asking the user
        return {
            "route": {
                "intent": "CLARIFY",
                "confidence": 0.0,
                "proposed": None,
                "reason": "router output could not be parsed",
                "search_terms": [],
            },
            **cost,
        }
    decision = routed.value
    unsure = decision.intent != "CLARIFY" and decision.confidence < runtime.context.min_confidence
    return {
        "route": {
            "intent": "CLARIFY" if unsure else decision.intent,
            "confidence": decision.confidence,
            "proposed": decision.intent,
            "reason": decision.reason,
            "search_terms": decision.search_terms,
            "asked": decision.asked.model_dump(exclude_defaults=True),
        },
        "usage": routed.usage,
    }
