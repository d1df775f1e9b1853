from __future__ import annotations

import logging

from langgraph.runtime import Runtime

from core.errors import WorkerError
from graph.context import Context
from graph.state import State
from nodes.conversation import recent_turns
from nodes.model_output import parsed

log = logging.getLogger("reppy.nodes")


async def plan_chat(state: State, runtime: Runtime[Context]) -> dict:
    """Plan which context the chat answer needs (planner model). It runs beside route_intent, before
    the route is known, so a chat request finds its plan ready. An unusable plan → clarify; a failed
    call is kept for gather_context, which raises it only if the route is chat (no other route needs
    the plan)."""
    try:
        planned, cost = await parsed(runtime.context.llm.plan_chat(recent_turns(state)), "planner")
    except WorkerError as exc:
        log.warning("planner failed: %s", exc.code)
        usage = list(getattr(exc, "usage", None) or [])  # a failed call may still have cost
        return {"plan": None, "plan_error": exc.to_error(), **({"usage": usage} if usage else {})}
    if planned is None:
        return {"plan": None, **cost}
    return {"plan": planned.value.model_dump(), "usage": planned.usage}
