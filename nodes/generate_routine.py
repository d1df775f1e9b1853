from __future__ import annotations

from langgraph.runtime import Runtime

from core.asks import read_program_ask
from graph.context import Context
from graph.state import State
from nodes.conversation import recent_turns
from nodes.model_output import accepted
from nodes.program_checks import program_problems


async def generate_routine(state: State, runtime: Runtime[Context]) -> dict:
    """Create a new program (main model, typed Program) from the gathered baseline, and refuse one
    that does not match the request, the profile or the catalog."""
    conversation = recent_turns(state)
    generated = await runtime.context.llm.generate_program(conversation, state["context"])
    program = generated.value
    problems = program_problems(
        program,
        read_program_ask(conversation),
        state["context"].get("profile") or {},
        state["context"].get("exercise_catalog", []),
    )
    return accepted(problems, "GENERATE_PROGRAM", {"program": program.model_dump(exclude_none=True)}, generated)
