from __future__ import annotations

import asyncio
import logging

from langgraph.runtime import Runtime

from core.errors import WorkerError
from graph.context import Context
from graph.state import State, chat_plan
from nodes.conversation import recent_turns

log = logging.getLogger("reppy.nodes")

MAX_MEMORIES = 5  # per request
MAX_MEMORY_CHARS = 300
# The result waits for every branch, this one too; a slow memory store must not hold it hostage.
REMEMBER_TIMEOUT_S = 5.0


async def remember(state: State, runtime: Runtime[Context]) -> dict:
    """Store the durable facts of the user's last message in their memory. It runs beside the
    answer (the facts are the user's, not the answer's), so its model call and write stay off the
    request's critical path. Best effort: a failure here is logged and reported as
    `remembered.error`, never raised, and never costs the answer.

    The chat planner lists the facts (`memories_to_save`); other paths ask the model for them.
    Point keys are `<requestId>:<n>`, so a redelivered request overwrites instead of duplicating."""
    ctx = runtime.context
    usage: list[dict] = []
    facts: list[str] = []
    try:
        async with asyncio.timeout(REMEMBER_TIMEOUT_S):
            plan = chat_plan(state)
            if plan is not None:
                facts = _clean(plan.get("memories_to_save") or [])
            else:
                noted = await ctx.llm.extract_memories(recent_turns(state))
                usage = noted.usage
                facts = _clean(noted.value.memories_to_save)
            if facts:
                request_id = state["requestId"]
                await ctx.memory.add(state["userId"], [(f"{request_id}:{n}", fact) for n, fact in enumerate(facts)])
    except TimeoutError:
        log.warning("request %s: memory write timed out after %.1fs", state["requestId"], REMEMBER_TIMEOUT_S)
        return {"remembered": {"saved": 0, "error": "TIMEOUT"}, "usage": usage}
    except WorkerError as exc:
        log.warning("request %s: memory write failed: %s %s", state["requestId"], exc.code, exc.message)
        usage = usage or list(getattr(exc, "usage", None) or [])  # a failed model call still cost
        return {"remembered": {"saved": 0, "error": exc.code}, "usage": usage}
    except Exception:
        log.exception("request %s: memory write failed unexpectedly", state["requestId"])
        return {"remembered": {"saved": 0, "error": "INTERNAL"}, "usage": usage}
    return {"remembered": {"saved": len(facts)}, "usage": usage}


def _clean(facts: list) -> list[str]:
    """Non-empty, trimmed, de-duplicated, at most MAX_MEMORIES of at most MAX_MEMORY_CHARS each."""
    kept: dict[str, str] = {}
    for fact in facts:
        if not isinstance(fact, str):
            continue
        text = " ".join(fact.split())[:MAX_MEMORY_CHARS]
        if text:
            kept.setdefault(text.casefold(), text)
    return list(kept.values())[:MAX_MEMORIES]
