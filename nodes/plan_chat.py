from __future__ import annotations

import logging

from langgraph.runtime import Runtime

from core.errors import LLMMalformedOutput
from graph.context import Context
from graph.state import State
from nodes.conversation import recent_turns

log = logging.getLogger("reppy.nodes")


async def plan_chat(state: State, runtime: Runtime[Context]) -> dict:
    """Plan which context the chat answer needs (planner model). An unusable plan → clarify."""
    try:
        planned = await runtime.context.llm.plan_chat(recent_turns(state))
    except LLMMalformedOutput as exc:
        log.warning("planner output unusable: %s", exc.message)
        return {"plan": None, **({"usage": list(exc.usage)} if exc.usage else {})}
    return {"plan": planned.value.model_dump(), "action": planned.value.action, "usage": planned.usage}
