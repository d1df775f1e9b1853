from __future__ import annotations

import asyncio

from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from nodes.context_sources import settle

# What most routes read: every GENERATE and UPDATE needs the routines, GENERATE the profile, and
# most chat plans ask for them too. Not the memories: a chat plan recalls them with its own query,
# and GENERATE searches them beside its catalog searches, which take longer; searching here would
# cost every request an embedding on the critical path of a busy instance for nothing.
PREFETCHED = ("active_routines", "profile")


async def prefetch_context(state: State, runtime: Runtime[Context]) -> dict:
    """Fetch what most routes need while the router (and the planner) are still deciding: it runs
    beside them, from the start. Never raises: each source's outcome, value or error, is kept for
    gather_context, which decides whether a failure matters for the route taken."""
    ctx = runtime.context
    user_id = state["userId"]
    results = await asyncio.gather(
        ctx.vm.get_active_routines(user_id), ctx.vm.get_profile(user_id), return_exceptions=True
    )
    return {"prefetched": {source: settle(result) for source, result in zip(PREFETCHED, results, strict=True)}}
