from __future__ import annotations

from langgraph.runtime import Runtime

from graph.context import Context
from graph.state import State
from nodes.conversation import recent_turns
from worker.errors import LLMMalformedOutput


async def generate_routine(state: State, runtime: Runtime[Context]) -> dict:
    """Create a new program (main model, typed Program) from the gathered baseline."""
    generated = await runtime.context.llm.generate_program(recent_turns(state), state["context"])
    program = generated.value
    known = {item["exercise_code"] for item in state["context"].get("exercise_catalog", [])}
    unknown = sorted({p.exercise_code for r in program.routines for p in r.plans} - known)
    if unknown:
        raise LLMMalformedOutput(f"program uses exercises outside the catalog: {', '.join(unknown)}")
    if not all(r.plans for r in program.routines):
        raise LLMMalformedOutput("program has a training day without exercises")
    return {
        "final": {"program": program.model_dump(exclude_none=True)},
        "action": "GENERATE_PROGRAM",
        "status": "SUCCEEDED",
        "usage": generated.usage,
    }
