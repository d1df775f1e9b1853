"""The graph as `langgraph dev` / LangGraph Studio serve it (see langgraph.json).

The server runs nodes on its event loop and rejects blocking calls there, so everything that reads
files, loads the embedding model or opens Qdrant happens here, once, when the server imports this
module — not on the first run. The OCI Function and the CLI import graph.graph instead and stay lazy
(cold start)."""

from __future__ import annotations

from app.dependencies import default_dependencies
from graph.graph import graph


def _warm_up() -> None:
    deps = default_dependencies()
    for adapter in (deps.llm, deps.memory):
        warm_up = getattr(adapter, "warm_up", None)
        if warm_up is not None:
            warm_up()


_warm_up()

__all__ = ["graph"]
