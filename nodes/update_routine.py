from __future__ import annotations

from langgraph.runtime import Runtime

from core.errors import ContextMissing, LLMMalformedOutput, UnclearRequest
from core.lang import is_korean
from core.schemas import UserAsk
from graph.context import Context
from graph.state import State
from nodes.conversation import last_message, recent_turns
from nodes.injury_checks import update_injury_problems
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
        return _ask_for_the_change(routines, is_korean(last_message(state)))
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
    if problems:
        raise LLMMalformedOutput("; ".join(problems))
    return {
        "final": {
            "routine_update": update.model_dump(exclude_none=True, exclude=None if update.avoided else {"avoided"})
        },
        "action": "UPDATE_ROUTINE",
        "status": "SUCCEEDED",
        "usage": generated.usage,
    }


def _ask_for_the_change(routines: list[dict], korean: bool) -> dict:
    """ "루틴 바꿔줘" with no detail: ask which exercise and what change, with the user's own
    routine in the examples."""
    first = min(routines, key=lambda r: r.get("routine_order", 0))
    routine = first.get("routine_name", "")
    plans = first.get("plans") or [{}]
    code_name = str(plans[0].get("exercise_code", "")).replace("_", " ").title()
    exercise = (plans[0].get("exercise_name") or code_name) if korean else code_name
    names = ", ".join(r.get("routine_name", "") for r in routines)
    if korean:
        question = (
            f'어떤 루틴({names})의 어떤 운동을 어떻게 바꿀까요? 예: "{routine}에서 {exercise} 빼줘", '
            f'"{exercise} 5세트로 늘려줘", "{exercise} 대신 다른 운동 넣어줘"'
        )
    else:
        question = (
            f"Which exercise in which routine ({names}) should I change, and how? For example: "
            f'"remove {exercise} from {routine}", "{exercise} to 5 sets", "swap {exercise} for …"'
        )
    return {
        "final": {"question": question, "options": ["UPDATE_ROUTINE"]},
        "action": "ASK_CLARIFICATION",
        "status": "CLARIFY",
    }
