from __future__ import annotations

import asyncio
import logging
from itertools import zip_longest
from typing import Any

from langgraph.runtime import Runtime

from core.errors import ContextMissing, WorkerError
from core.lang import is_korean
from core.names import COMMON_EXERCISES, exercise_name
from graph.context import Context
from graph.state import State, chat_plan
from nodes.context_sources import missing as missing_source
from nodes.context_sources import settle
from nodes.conversation import last_message

log = logging.getLogger("reppy.nodes")

# What generation needs, fetched before the model runs (active routines first).
BASELINE = {
    "GENERATE_ROUTINE": ["active_routines", "profile", "user_memory", "exercise_catalog"],
    "UPDATE_ROUTINE": ["active_routines", "exercise_catalog", "user_memory"],  # memory: injuries
}
# Without these, generation cannot be trusted: FAILED with CONTEXT_MISSING instead of guessing.
REQUIRED = {
    "GENERATE_ROUTINE": {"active_routines", "profile", "exercise_catalog"},
    "UPDATE_ROUTINE": {"active_routines"},
}
# A new program draws from every muscle group of the catalog: searched by muscle group (a VM whose
# search knows them), and by exercise names (a VM whose search matches names only) — see
# _program_search_terms.
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
    if intent == "GENERATE_ROUTINE":
        terms = _program_search_terms(state, ctx.catalog_max_searches)
    else:
        route = state["route"]
        # The hurt areas' muscles too: the injury check knows an exercise's muscle from the catalog.
        hurt = [m for i in (route.get("asked") or {}).get("injuries", []) for m in i.get("muscles", [])]
        asked_terms = plan.get("search_terms") or route.get("search_terms") or []
        terms = _search_terms([*asked_terms, *hurt], ctx.catalog_max_searches)
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
        # An empty answer is an answer: a retry would get the same, so it is not retryable.
        raise ContextMissing(
            f"the exercise catalog returned nothing to build a program from ({len(terms)} searches)", retryable=False
        )
    return {"context": context}


def _prefetched(state: State, wanted: list[str]) -> dict[str, dict[str, Any]]:
    """The outcomes prefetch_context already has for these sources."""
    prefetched = state.get("prefetched") or {}
    return {source: prefetched[source] for source in wanted if source in prefetched}


def _search_terms(terms: list[str], cap: int) -> list[str]:
    # "Bench Press", "bench  press " are one search; the first spelling is the one sent.
    unique: dict[str, str] = {}
    for term in terms:
        cleaned = " ".join(str(term).split())
        if cleaned:
            unique.setdefault(cleaned.casefold(), cleaned)
    return list(unique.values())[:cap]


def _program_search_terms(state: State, cap: int) -> list[str]:
    """The muscle groups, then up to `cap` names: the exercises already in the user's routines (as
    the VM names them, else their readable code) alternating with common exercise words in the
    user's language — so a VM whose search matches names only still finds a catalog."""
    routines = ((state.get("prefetched") or {}).get("active_routines") or {}).get("value") or []
    korean = is_korean(last_message(state))
    known = [exercise_name(p, korean) for r in routines for p in r.get("plans") or [] if p.get("exercise_code")]
    common = COMMON_EXERCISES["ko" if korean else "en"]
    mixed = [t for pair in zip_longest(common, known) for t in pair if t]
    return PROGRAM_SEARCH_TERMS + _search_terms(mixed, cap)


async def _search_catalog(ctx: Context, terms: list[str]) -> list[dict[str, Any]]:
    """One search per term, concurrently; items de-duplicated by exercise_code in term order."""
    pages = await asyncio.gather(*(ctx.vm.search_exercises(t) for t in terms))
    # A name the catalog does not know ("cable flyes") is searched by its last word, so the answer
    # can offer the closest exercises instead of nothing.
    missed = [t.split()[-1] for t, page in zip(terms, pages, strict=True) if not page and " " in t]
    pages += await asyncio.gather(*(ctx.vm.search_exercises(t) for t in missed))
    seen: dict[str, dict[str, Any]] = {}
    for page in pages:
        for item in page:
            seen.setdefault(item.get("exercise_code"), item)
    return list(seen.values())
