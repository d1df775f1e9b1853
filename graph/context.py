"""Runtime context: the adapters one run uses, passed as `context=` (LangGraph `Runtime[Context]`).

Every field is required: the composition root (app/dependencies.py) fills them for the runner, and
app/studio.py gives them defaults for `langgraph dev`. The graph layer never reaches for a global."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.llm.base import ModelProvider
    from adapters.memory.base import UserMemory
    from adapters.vm_api.base import VMApi


@dataclass
class Context:
    llm: ModelProvider
    vm: VMApi
    memory: UserMemory
    # Below this router confidence the request is answered with a clarifying question.
    min_confidence: float
    catalog_max_searches: int
    memory_top_k: int
