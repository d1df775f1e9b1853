from __future__ import annotations

import asyncio
import logging
from typing import Any

from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from nodes.conversation import last_message
from worker.errors import ContextMissing, VMAuthError, WorkerError

log = logging.getLogger("reppy.nodes")

# What generation needs, fetched before the model runs (the seed: routines first).
BASELINE = {
    "GENERATE_ROUTINE": ["active_routines", "profile", "user_memory", "exercise_catalog"],
    "UPDATE_ROUTINE": ["active_routines", "exercise_catalog"],
}
# Without these, generation cannot be trusted: FAILED with CONTEXT_MISSING instead of guessing.
REQUIRED = {
    "GENERATE_ROUTINE": {"active_routines", "profile", "exercise_catalog"},
    "UPDATE_ROUTINE": {"active_routines"},
}
# A new program draws from every muscle group of the catalog.
PROGRAM_SEARCH_TERMS = ["CHEST", "BACK", "LEGS", "SHOULDERS", "ARMS", "CORE", "GLUTES"]


async def gather_context(state: State, runtime: Runtime[Context]) -> dict:
    """Fetch, concurrently, exactly the context sources the plan asks for."""
    ctx = runtime.context
    intent = state["route"]["intent"]
    plan = state.get("plan") or {}
    # A chat plan may need no context at all (general advice): then nothing is fetched.
    sources = (plan.get("required_context") or []) if plan else BASELINE[intent]
    user_id = state["userId"]
    terms = _search_terms(intent, plan, state["route"], ctx.catalog_max_searches)

    fetchers = {
        "active_routines": lambda: ctx.vm.get_active_routines(user_id),
        "profile": lambda: ctx.vm.get_profile(user_id),
        "user_memory": lambda: ctx.memory.search(
            user_id, plan.get("memory_query") or last_message(state), ctx.memory_top_k),
        "exercise_catalog": lambda: _search_catalog(ctx, terms),
    }
    wanted = [s for s in dict.fromkeys(sources) if s in fetchers]
    results = await asyncio.gather(*(fetchers[s]() for s in wanted), return_exceptions=True)

    context: dict[str, Any] = {"degraded": []}
    for source, result in zip(wanted, results):
        if isinstance(result, BaseException):
            if not isinstance(result, Exception):
                raise result  # cancellation and the like are not ours to swallow
            if source in REQUIRED.get(intent, ()):
                raise _missing(source, intent, result)
            log.warning("context source %s unavailable, answering without it: %s", source,
                        result.message if isinstance(result, WorkerError) else type(result).__name__)
            context["degraded"].append(source)
            continue
        context[source] = result
    if intent == "GENERATE_ROUTINE" and not context.get("exercise_catalog"):
        raise ContextMissing("the exercise catalog returned nothing to build a program from")
    return {"context": context}


def _missing(source: str, intent: str, error: Exception) -> WorkerError:
    """Why a required source is missing, typed. A rejected token is the worker's configuration,
    not the context: it stays VM_AUTH (not retryable), so operators see the real cause."""
    if isinstance(error, VMAuthError):
        return error
    detail = error.message if isinstance(error, WorkerError) else type(error).__name__
    retryable = error.retryable if isinstance(error, WorkerError) else True
    return ContextMissing(f"{source} is required for {intent} but could not be loaded: {detail}",
                          retryable=retryable)


def _search_terms(intent: str, plan: dict, route: dict, cap: int) -> list[str]:
    if intent == "GENERATE_ROUTINE":
        terms = PROGRAM_SEARCH_TERMS
    else:
        terms = plan.get("search_terms") or route.get("search_terms") or []
    # "Bench Press", "bench  press " are one search; the first spelling is the one sent.
    unique: dict[str, str] = {}
    for term in terms:
        cleaned = " ".join(term.split())
        if cleaned:
            unique.setdefault(cleaned.casefold(), cleaned)
    return list(unique.values())[:cap]


async def _search_catalog(ctx: Context, terms: list[str]) -> list[dict[str, Any]]:
    """One search per term, concurrently; items de-duplicated by exercise_code in term order."""
    pages = await asyncio.gather(*(ctx.vm.search_exercises(t) for t in terms))
    seen: dict[str, dict[str, Any]] = {}
    for page in pages:
        for item in page:
            seen.setdefault(item.get("exercise_code"), item)
    return list(seen.values())
