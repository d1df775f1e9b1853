from __future__ import annotations

from langgraph.runtime import Runtime

from core.errors import ContextMissing, LLMMalformedOutput, UnclearRequest
from core.lang import is_korean
from core.messages import messages_for
from core.schemas import UserAsk
from graph.context import Context
from graph.state import State
from nodes.conversation import last_message, recent_turns
from nodes.injury_checks import update_injury_problems
from nodes.model_output import accepted
from nodes.routine_diff import update_problems


async def update_routine(state: State, runtime: Runtime[Context]) -> dict:
    """Apply the requested change to one active routine (main model, typed RoutineUpdate)."""
    routines = state["context"].get("active_routines") or []
    if not routines:
        raise ContextMissing("there is no active routine to update", retryable=False)
    asked = UserAsk.model_validate((state.get("route") or {}).get("asked") or {})
    context = {**state["context"], "asked": asked.model_dump(exclude_defaults=True)}
    try:
        generated = await runtime.context.llm.update_routine(recent_turns(state), context)
    except UnclearRequest:
        return _ask_for_the_change(routines, last_message(state))
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
    problems = update_problems(update, original)
    problems += update_injury_problems(update, asked.injuries, state["context"].get("exercise_catalog", []))
    final = {"routine_update": update.model_dump(exclude_none=True, exclude=None if update.avoided else {"avoided"})}
    return accepted(problems, "UPDATE_ROUTINE", final, generated)


def _ask_for_the_change(routines: list[dict], message: str) -> dict:
    """ "루틴 바꿔줘" with no detail: ask which exercise and what change, with the user's own
    routine in the examples."""
    first = min(routines, key=lambda r: r.get("routine_order", 0))
    plans = first.get("plans") or [{}]
    code_name = str(plans[0].get("exercise_code", "")).replace("_", " ").title()
    korean = is_korean(message)
    question = messages_for(message).ASK_FOR_THE_CHANGE.format(
        names=", ".join(r.get("routine_name", "") for r in routines),
        routine=first.get("routine_name", ""),
        exercise=(plans[0].get("exercise_name") or code_name) if korean else code_name,
    )
    return {
        "final": {"question": question, "options": ["UPDATE_ROUTINE"]},
        "action": "ASK_CLARIFICATION",
        "status": "CLARIFY",
    }
