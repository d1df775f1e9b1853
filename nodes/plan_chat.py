from __future__ import annotations

import logging

from langgraph.runtime import Runtime

from core.errors import LLMMalformedOutput, WorkerError
from graph.context import Context
from graph.state import State
from nodes.conversation import recent_turns

log = logging.getLogger("reppy.nodes")


async def plan_chat(state: State, runtime: Runtime[Context]) -> dict:
    """Plan which context the chat answer needs (planner model). It runs beside route_intent, before
    the route is known, so a chat request finds its plan ready. An unusable plan → clarify; a failed
    call is kept for gather_context, which raises it only if the route is chat (no other route needs
    the plan)."""
    try:
        planned = await runtime.context.llm.plan_chat(recent_turns(state))
    except LLMMalformedOutput as exc:
        log.warning("planner output unusable: %s", exc.message)
        return {"plan": None, **({"usage": list(exc.usage)} if exc.usage else {})}
    except WorkerError as exc:
        log.warning("planner failed: %s", exc.code)
        usage = list(getattr(exc, "usage", None) or [])  # a failed call may still have cost
        return {"plan": None, "plan_error": exc.to_error(), **({"usage": usage} if usage else {})}
    return {"plan": planned.value.model_dump(), "usage": planned.usage}
