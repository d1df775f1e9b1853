"""Conditional edges: pure functions of the state that name the next nodes.

`remember` (the user's durable facts → memory) runs beside whatever answers: the facts come from the
user's message, not from the answer, so it never waits for the answer or makes the result wait
for it, except when the answer is instant (a clarifying question)."""

from __future__ import annotations

from typing import Literal

from graph.state import State

AfterRoute = Literal["plan_chat", "gather_context", "clarify", "remember"]
AfterPlan = Literal["gather_context", "clarify", "remember"]
AfterGather = Literal["respond_chat", "generate_routine", "update_routine", "remember"]


def after_route(state: State) -> list[AfterRoute]:
    intent = state["route"]["intent"]
    if intent == "CHAT_RESPONSE":
        return ["plan_chat"]
    if intent in ("GENERATE_ROUTINE", "UPDATE_ROUTINE"):
        return ["gather_context"]  # their baseline context (active routines first)
    return ["clarify", "remember"]


def after_plan(state: State) -> list[AfterPlan]:
    return ["gather_context"] if state.get("plan") else ["clarify", "remember"]


def after_gather(state: State) -> list[AfterGather]:
    answer = {
        "CHAT_RESPONSE": "respond_chat",
        "GENERATE_ROUTINE": "generate_routine",
        "UPDATE_ROUTINE": "update_routine",
    }[state["route"]["intent"]]
    return [answer, "remember"]
