from __future__ import annotations

import asyncio

from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from nodes.context_sources import settle
from nodes.conversation import last_message

# What most routes read: every GENERATE and UPDATE needs the routines, GENERATE the profile and
# memories, and most chat plans ask for them too.
PREFETCHED = ("active_routines", "profile", "user_memory")


async def prefetch_context(state: State, runtime: Runtime[Context]) -> dict:
    """Fetch what most routes need while the router is still deciding (it runs beside
    route_intent, from the start): the user's active routines and profile, and the memories
    closest to their message. Never raises: each source's outcome, value or error, is kept for
    gather_context, which decides whether a failure matters for the route taken."""
    ctx = runtime.context
    user_id = state["userId"]
    query = last_message(state)
    results = await asyncio.gather(
        ctx.vm.get_active_routines(user_id),
        ctx.vm.get_profile(user_id),
        ctx.memory.search(user_id, query, ctx.memory_top_k),
        return_exceptions=True,
    )
    prefetched = {source: settle(result) for source, result in zip(PREFETCHED, results, strict=False)}
    prefetched["user_memory"]["query"] = query  # reusable only for a search with the same query
    return {"prefetched": prefetched}
