from __future__ import annotations

import asyncio
import logging
from typing import Any

from langgraph.runtime import Runtime

from core.errors import ContextMissing, WorkerError
from graph.context import Context
from graph.state import State, chat_plan
from nodes.context_sources import missing as missing_source
from nodes.context_sources import settle
from nodes.conversation import last_message

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
    """The context sources the plan asks for (or the route's baseline): what prefetch_context
    already has is reused, the rest is fetched now, concurrently."""
    ctx = runtime.context
    intent = state["route"]["intent"]
    if intent == "CHAT_RESPONSE" and state.get("plan_error"):
        raise WorkerError(**state["plan_error"])  # the planner's failure, now that chat needs it
    plan = chat_plan(state) or {}
    # A chat plan may need no context at all (general advice): then nothing is fetched, nor when
    # the plan was unusable (the request is answered with a question).
    sources = (plan.get("required_context") or []) if intent == "CHAT_RESPONSE" else BASELINE[intent]
    user_id = state["userId"]
    terms = _search_terms(intent, plan, state["route"], ctx.catalog_max_searches)
    memory_query = plan.get("memory_query") or last_message(state)

    fetchers = {
        "active_routines": lambda: ctx.vm.get_active_routines(user_id),
        "profile": lambda: ctx.vm.get_profile(user_id),
        "user_memory": lambda: ctx.memory.search(user_id, memory_query, ctx.memory_top_k),
        "exercise_catalog": lambda: _search_catalog(ctx, terms),
    }
    wanted = [s for s in dict.fromkeys(sources) if s in fetchers]
    outcomes = _prefetched(state, wanted)
    to_fetch = [s for s in wanted if s not in outcomes]
    results = await asyncio.gather(*(fetchers[s]() for s in to_fetch), return_exceptions=True)
    outcomes.update((source, settle(result)) for source, result in zip(to_fetch, results, strict=False))

    context: dict[str, Any] = {"degraded": []}
    for source in wanted:
        outcome = outcomes[source]
        if "error" in outcome:
            if source in REQUIRED.get(intent, ()):
                raise missing_source(source, intent, outcome["error"])
            log.warning("context source %s unavailable, answering without it: %s", source, outcome["error"]["message"])
            context["degraded"].append(source)
            continue
        context[source] = outcome["value"]
    if intent == "GENERATE_ROUTINE" and not context.get("exercise_catalog"):
        raise ContextMissing("the exercise catalog returned nothing to build a program from")
    return {"context": context}


def _prefetched(state: State, wanted: list[str]) -> dict[str, dict[str, Any]]:
    """The outcomes prefetch_context already has for these sources."""
    prefetched = state.get("prefetched") or {}
    return {source: prefetched[source] for source in wanted if source in prefetched}


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
