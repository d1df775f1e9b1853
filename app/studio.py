"""The graph as `langgraph dev` / LangGraph Studio serve it (see langgraph.json).

A Studio run passes no context, or only some knobs (`min_confidence`, ...): `StudioContext` fills the
rest from the dependencies built here once from the environment (`.env` is read). The server runs
nodes on its event loop and rejects blocking calls there, so everything that reads files, loads the
embedding model or opens Qdrant happens here, when the server imports this module — not on the
first run. The OCI Function and the CLI import graph.graph instead and stay lazy (cold start)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.dependencies import build_dependencies
from core.settings import Settings
from graph.context import Context
from graph.graph import build_graph

if TYPE_CHECKING:
    from adapters.llm.base import ModelProvider
    from adapters.memory.base import UserMemory
    from adapters.vm_api.base import VMApi

DEPENDENCIES = build_dependencies(Settings())
for _adapter in (DEPENDENCIES.llm, DEPENDENCIES.memory):
    if (_warm_up := getattr(_adapter, "warm_up", None)) is not None:
        _warm_up()


@dataclass
class StudioContext(Context):
    llm: ModelProvider = field(default_factory=lambda: DEPENDENCIES.llm)
    vm: VMApi = field(default_factory=lambda: DEPENDENCIES.vm)
    memory: UserMemory = field(default_factory=lambda: DEPENDENCIES.memory)
    min_confidence: float = field(default_factory=lambda: DEPENDENCIES.settings.ROUTER_MIN_CONFIDENCE)
    catalog_max_searches: int = field(default_factory=lambda: DEPENDENCIES.settings.CATALOG_MAX_SEARCHES)
    memory_top_k: int = field(default_factory=lambda: DEPENDENCIES.settings.MEMORY_TOP_K)


# No checkpointer: `langgraph dev` supplies its own.
graph = build_graph(StudioContext).compile(name="reppy_worker")

__all__ = ["StudioContext", "graph"]
