"""Runtime context: the adapters one run uses, passed as `context=` (LangGraph `Runtime[Context]`).

Left out (LangGraph Studio, `langgraph dev`), each adapter defaults to the process-wide embedded
dependencies built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.llm.base import ModelProvider
    from adapters.memory.base import UserMemory
    from adapters.vm_api.base import VMApi


def _default(name: str):
    def make() -> Any:
        from app.dependencies import default_dependencies

        return getattr(default_dependencies(), name)

    return make


def _setting(name: str):
    def make() -> Any:
        from app.dependencies import default_dependencies

        return getattr(default_dependencies().settings, name)

    return make


@dataclass
class Context:
    llm: ModelProvider = field(default_factory=_default("llm"))
    vm: VMApi = field(default_factory=_default("vm"))
    memory: UserMemory = field(default_factory=_default("memory"))
    # Below this router confidence the request is answered with a clarifying question.
    min_confidence: float = field(default_factory=_setting("ROUTER_MIN_CONFIDENCE"))
    catalog_max_searches: int = field(default_factory=_setting("CATALOG_MAX_SEARCHES"))
    memory_top_k: int = field(default_factory=_setting("MEMORY_TOP_K"))
