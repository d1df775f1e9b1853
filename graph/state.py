"""Graph state. The input is the request contract itself (paste examples/request.json into
LangGraph Studio); each node adds its own keys, which Studio shows as they appear."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict


class Turn(TypedDict):
    role: str
    content: str


class RequestInput(TypedDict, total=False):
    requestId: str
    userId: str
    conversation_history: list[Turn]
    stream: bool
    metadata: dict[str, Any]


class State(RequestInput, total=False):
    # route_intent: {intent, confidence, proposed, reason, search_terms, asked}; intent is CLARIFY
    # when the router was unsure, `proposed` keeps what it would have chosen; `asked` is what the
    # user asked of a program or a change (UserAsk: only the values stated).
    route: dict[str, Any]
    # plan_chat (beside route_intent, for every request): ChatPlan (action, required_context,
    # search_terms, memory_query, memories_to_save); None = unusable. Read it through chat_plan().
    plan: dict[str, Any] | None
    # plan_chat, when its model call failed: {code, message, retryable}; fatal on the chat route only.
    plan_error: dict[str, Any]
    # prefetch_context (beside route_intent): {active_routines, profile}, each {"value": …} or
    # {"error": {code, message, retryable}}.
    prefetched: dict[str, Any]
    # gather_context: {active_routines, profile, user_memory, exercise_catalog, degraded}
    context: dict[str, Any]
    action: str
    status: str  # SUCCEEDED | CLARIFY (failures are exceptions, turned into FAILED by the runner)
    final: dict[str, Any]
    # remember: {saved: n} or {saved: 0, error: CODE}; a failed write never fails the request.
    remembered: dict[str, Any]
    usage: Annotated[list[dict[str, Any]], operator.add]  # one record per model call


def chat_plan(state: State) -> dict[str, Any] | None:
    """The chat plan, when the route is CHAT_RESPONSE. The planner runs beside the router for every
    request; on any other route its plan is dropped (its usage still counts)."""
    if (state.get("route") or {}).get("intent") != "CHAT_RESPONSE":
        return None
    return state.get("plan")
