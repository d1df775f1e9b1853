from __future__ import annotations

from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from nodes.conversation import recent_turns
from nodes.model_output import parsed


async def plan_chat(state: State, runtime: Runtime[Context]) -> dict:
    """Plan which context the chat answer needs (planner model). An unusable plan → clarify."""
    planned, cost = await parsed(runtime.context.llm.plan_chat(recent_turns(state)), "planner")
    if planned is None:
        return {"plan": None, **cost}
    return {"plan": planned.value.model_dump(), "action": planned.value.action, "usage": planned.usage}
