from __future__ import annotations

import asyncio
import logging

from langgraph.runtime import Runtime

from adapters.memory.base import MemoryChanges
from core.errors import WorkerError
from core.schemas import MemoryNotes
from graph.context import Context
from graph.state import State, chat_plan
from nodes.conversation import last_message, recent_turns

log = logging.getLogger("reppy.nodes")

MAX_MEMORIES = 5  # per request
MAX_MEMORY_CHARS = 300
# The known memories a new fact is compared with: its nearest, whatever their score.
NEIGHBOURS = 8
# The result does not wait for it, but the invocation does: a slow memory store must not hold it.
REMEMBER_TIMEOUT_S = 5.0


async def remember(state: State, runtime: Runtime[Context]) -> dict:
    """Consolidate the user's memory with their last message: new durable facts are added, known
    ones restated are left alone or rewritten in place (by id), and ones the message says are no
    longer true are retired. It runs beside the answer (the facts are the user's, not the
    answer's), so its model call and write stay off the request's critical path. Best effort: a
    failure here is logged and reported as `remembered.error`, never raised, and never costs the
    answer.

    One model call decides, against the user's nearest memories. In chat the planner has listed
    the facts already (`memories_to_save`): none means nothing to decide and no call. New points are keyed `<requestId>:<n>` and a fact already known is
    not added again, so a redelivered request changes nothing twice. The memories this request
    recalled are marked as such (the per-user cap retires the least recently used first)."""
    ctx = runtime.context
    usage: list[dict] = []
    user_id = state["userId"]
    try:
        async with asyncio.timeout(REMEMBER_TIMEOUT_S):
            plan = chat_plan(state)
            noted = _clean(plan.get("memories_to_save") or []) if plan is not None else None
            recalled = [m["id"] for m in (state.get("context") or {}).get("user_memory") or [] if m.get("id")]
            changes = MemoryChanges(recalled=recalled)
            if noted != []:
                known = await ctx.memory.nearest(user_id, noted or [last_message(state)], NEIGHBOURS)
                decided = await ctx.llm.extract_memories(recent_turns(state), known, noted)
                usage = decided.usage
                changes = _changes(decided.value, known, state["requestId"], recalled)
            if changes:
                await ctx.memory.apply(user_id, changes)
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
    return {"remembered": _summary(changes), "usage": usage}


def _changes(decided: MemoryNotes, known: list[dict], request_id: str, recalled: list[str]) -> MemoryChanges:
    """The model's decision, checked: ids only from the known memories shown, a "new" fact that is
    word for word a known one is nothing to do (a redelivery, or a model repeating itself)."""
    by_id = {m["id"]: m for m in known}
    known_texts = {_folded(m["text"]) for m in known}
    facts = _clean(decided.memories_to_save)
    add = [(f"{request_id}:{n}", fact) for n, fact in enumerate(facts) if _folded(fact) not in known_texts]
    update = {}
    for edit in decided.memories_to_update:
        [text] = _clean([edit.text]) or [""]
        if edit.id in by_id and text and _folded(text) != _folded(by_id[edit.id]["text"]):
            update[edit.id] = text
    retire = [i for i in dict.fromkeys(decided.memories_to_retire) if i in by_id and i not in update]
    return MemoryChanges(add=add, update=update, retire=retire, recalled=recalled)


def _summary(changes: MemoryChanges) -> dict:
    """{saved: n}, with `updated` and `retired` when there were any."""
    summary = {"saved": len(changes.add)}
    if changes.update:
        summary["updated"] = len(changes.update)
    if changes.retire:
        summary["retired"] = len(changes.retire)
    return summary


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


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
