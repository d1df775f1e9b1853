"""Conditional edges: pure functions of the state that name the next nodes.

`remember` (the user's durable facts → memory) runs beside whatever answers: the facts come from the
user's message, not from the answer, so it never waits for the answer, and the runner publishes the
result without waiting for it."""

from __future__ import annotations

from typing import Literal

from graph.state import State

AfterRoute = Literal["gather_context", "clarify", "remember"]
AfterGather = Literal["respond_chat", "generate_routine", "update_routine", "clarify", "remember"]
ANSWERS = {
    "CHAT_RESPONSE": "respond_chat",
    "GENERATE_ROUTINE": "generate_routine",
    "UPDATE_ROUTINE": "update_routine",
}


def after_route(state: State) -> list[AfterRoute]:
    # CHAT_RESPONSE included: its plan was made beside the route, in the same superstep, so it is
    # in the state by the time gather_context runs.
    if state["route"]["intent"] in ANSWERS:
        return ["gather_context"]
    return ["clarify", "remember"]


def after_gather(state: State) -> list[AfterGather]:
    intent = state["route"]["intent"]
    if intent == "CHAT_RESPONSE" and not state.get("plan"):
        return ["clarify", "remember"]  # the planner's output was unusable: ask instead of guessing
    return [ANSWERS[intent], "remember"]
