from __future__ import annotations

from langgraph.runtime import Runtime

from core.schemas import UserAsk
from graph.context import Context
from graph.state import State
from nodes.conversation import recent_turns
from nodes.injury_checks import spare_injuries
from nodes.model_output import accepted
from nodes.program_checks import program_problems


async def generate_routine(state: State, runtime: Runtime[Context]) -> dict:
    """Create a new program (main model, typed Program) from the gathered baseline and what the
    router read the user asked; keep it off injured areas, and refuse one that does not match the
    request, the profile or the catalog."""
    conversation = recent_turns(state)
    asked = UserAsk.model_validate((state.get("route") or {}).get("asked") or {})
    context = {**state["context"], "asked": asked.model_dump(exclude_defaults=True)}
    generated = await runtime.context.llm.generate_program(conversation, context)
    catalog = state["context"].get("exercise_catalog", [])
    program, problems = spare_injuries(generated.value, asked.injuries, catalog)
    problems += program_problems(program, asked, state["context"].get("profile") or {}, catalog)
    final = {"program": program.model_dump(exclude_none=True, exclude=None if program.avoided else {"avoided"})}
    return accepted(problems, "GENERATE_PROGRAM", final, generated)
