"""Conditional edges: pure functions of the state that name the next node."""

from __future__ import annotations

from typing import Literal

from graph.state import State


def after_route(state: State) -> Literal["plan_chat", "gather_context", "clarify"]:
    intent = state["route"]["intent"]
    if intent == "CHAT_RESPONSE":
        return "plan_chat"
    if intent in ("GENERATE_ROUTINE", "UPDATE_ROUTINE"):
        return "gather_context"  # their baseline context (routines first, as the seed says)
    return "clarify"


def after_plan(state: State) -> Literal["gather_context", "clarify"]:
    return "gather_context" if state.get("plan") else "clarify"


def after_gather(state: State) -> Literal["respond_chat", "generate_routine", "update_routine"]:
    return {
        "CHAT_RESPONSE": "respond_chat",
        "GENERATE_ROUTINE": "generate_routine",
        "UPDATE_ROUTINE": "update_routine",
    }[state["route"]["intent"]]
