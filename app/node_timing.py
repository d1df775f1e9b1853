"""A LangChain callback that times each LangGraph node of one request (and opens its span).

LangGraph reports every node as a chain run whose name is the node's and whose tags hold its
step ("graph:step:N"); routing functions and the runnables inside a node are runs too, and are
ignored. It runs inline (no thread hop) and only on chain events, so it costs next to nothing."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler


class NodeTimer(BaseCallbackHandler):
    run_inline = True
    ignore_llm = ignore_chat_model = ignore_retriever = ignore_agent = ignore_retry = ignore_custom_event = True

    def __init__(self, observation: Any):  # app.telemetry.Observation
        self._observation = observation
        self._running: dict[UUID, tuple[str, float]] = {}

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        node = (metadata or {}).get("langgraph_node")
        if node is None or kwargs.get("name") != node or not any(t.startswith("graph:step:") for t in tags or ()):
            return
        self._running[run_id] = (node, time.perf_counter())
        self._observation.node_started(node)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, outputs, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, None, error)

    def _end(self, run_id: UUID, outputs: Any, error: BaseException | None) -> None:
        started = self._running.pop(run_id, None)
        if started is None:
            return
        node, at = started
        self._observation.node_finished(node, (time.perf_counter() - at) * 1000, outputs, error)
