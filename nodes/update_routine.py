from __future__ import annotations

from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from nodes.conversation import recent_turns
from nodes.routine_diff import update_problems
from worker.errors import ContextMissing, LLMMalformedOutput


async def update_routine(state: State, runtime: Runtime[Context]) -> dict:
    """Apply the requested change to one active routine (main model, typed RoutineUpdate)."""
    routines = state["context"].get("active_routines") or []
    if not routines:
        raise ContextMissing("there is no active routine to update", retryable=False)
    generated = await runtime.context.llm.update_routine(recent_turns(state), state["context"])
    update = generated.value
    original = next((r for r in routines if r.get("routine_order") == update.routine_order), None)
    if original is None:
        raise LLMMalformedOutput(f"update names routine #{update.routine_order}, which is not active")
    # New exercises must be real: from the catalog, or already in the user's routines.
    known = {item["exercise_code"] for item in state["context"].get("exercise_catalog", [])}
    known |= {p["exercise_code"] for r in routines for p in r.get("plans", [])}
    unknown = sorted({p.exercise_code for p in update.updated_routine.plans} - known)
    if unknown:
        raise LLMMalformedOutput(f"update uses exercises outside the catalog: {', '.join(unknown)}")
    # Exactly the declared change, nothing else: the diff is recomputed, not taken on trust.
    if problems := update_problems(update, original):
        raise LLMMalformedOutput("; ".join(problems))
    return {
        "final": {"routine_update": update.model_dump(exclude_none=True)},
        "action": "UPDATE_ROUTINE",
        "status": "SUCCEEDED",
        "usage": generated.usage,
    }
