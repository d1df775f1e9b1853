"""What each request leaves for operators: its log context, one summary line, metrics and spans.

`observe_request` wraps the runner's handling of one delivery. Inside it every log line carries
the requestId (app/logs.py), a LangGraph callback times each node (and opens its span), and the
published result is noted on its way out. When the request is done, one summary line is logged —
latency per request and per node, tokens, cost, status, error code, degraded sources, tokens lost —
and, when configured, the same figures go to OCI Monitoring (app/metrics.py) and the spans to an
OTLP endpoint (app/tracing.py). Metrics and spans are sent in batches when no request is in flight,
after the results are out, so they never delay an answer; failing to send them never fails one.

None of it carries user text, secrets or the user id itself (only its keyed hash)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from app.logs import _observation, bind_request, user_hash

if TYPE_CHECKING:
    from app.metrics import MetricsBatch
    from core.contracts import ResultEvent
    from core.settings import Settings

log = logging.getLogger("reppy.summary")
SUMMARY_EVENT = "request.summary"


class Telemetry:
    """Per process (one per Dependencies): where metrics and spans go; None each when off."""

    def __init__(self, metrics: MetricsBatch | None = None, tracing: Any = None):  # tracing: app.tracing.Tracing
        self.metrics = metrics
        self.tracing = tracing
        self.in_flight = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Telemetry:
        metrics = tracing = None
        if settings.OCI_MONITORING_COMPARTMENT_ID:
            from app.metrics import MetricsBatch

            metrics = MetricsBatch.from_settings(settings)
        if settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or settings.OTEL_EXPORTER_OTLP_ENDPOINT:
            from app.tracing import Tracing

            tracing = Tracing.from_settings(settings)
        return cls(metrics, tracing)

    async def flush(self) -> None:
        """Send what is batched (metrics, finished spans); never raises: the caller is the runner,
        and an error out of it would read as an unpublished result."""
        try:
            if self.metrics is not None:
                await self.metrics.flush()
            if self.tracing is not None:
                await asyncio.to_thread(self.tracing.flush)
        except Exception:
            logging.getLogger("reppy.telemetry").exception("telemetry flush failed")

    async def aclose(self) -> None:
        # A flush, not a shutdown: the exporters may serve other Dependencies of this process.
        await self.flush()


class Observation:
    """One request as operators see it."""

    def __init__(self, raw: Any, telemetry: Telemetry, provider: str | None):
        body = _as_dict(raw)
        user = body.get("userId") if body else None
        self.request_id: str | None = _request_id(body)
        self.fields: dict[str, Any] = {
            "requestId": self.request_id,
            "userHash": user_hash(user if isinstance(user, str) else None),
        }
        self.telemetry = telemetry
        self.provider = provider
        self.started = time.perf_counter()
        self.node_ms: dict[str, float] = {}
        self.node_errors: dict[str, str] = {}
        self.result: ResultEvent | None = None
        self.remembered: dict[str, Any] | None = None
        self.after_usage: dict[str, Any] | None = None
        self.published: bool | None = None
        self.status: str | None = None  # the runner's outcome: SUCCEEDED … SKIPPED, INVALID
        self.error_code: str | None = None
        tracing = telemetry.tracing
        self.spans = tracing.request_spans(self.fields) if tracing is not None else None

    # -- fed by the graph callback (nodes) and the runner (outcome) ------------------------------

    def node_started(self, node: str) -> None:
        if self.spans is not None:
            self.spans.start_node(node)

    def node_finished(self, node: str, elapsed_ms: float, outputs: Any = None, error: BaseException | None = None):
        self.node_ms[node] = round(self.node_ms.get(node, 0.0) + elapsed_ms, 1)
        if node == "route_intent" and isinstance(outputs, dict):
            intent = (outputs.get("route") or {}).get("intent")
            if intent:
                self.fields["intent"] = intent
        code = getattr(error, "code", type(error).__name__) if error is not None else None
        if code:
            self.node_errors[node] = code
        if self.spans is not None:
            self.spans.end_node(node, error=code)

    def finished(
        self,
        status: str,
        error_code: str | None,
        result: ResultEvent | None,
        remembered: dict | None = None,
        after_usage: dict | None = None,
    ) -> None:
        """The runner's outcome, with the result it published when there was one, and what the
        memory write beside the answer did and cost (known only after the result)."""
        self.status, self.error_code, self.result = status, error_code, result
        self.remembered, self.after_usage = remembered, after_usage
        self.published = True if result is not None else None

    def failed(self, exc: BaseException) -> None:
        """Handling raised: the result could not be published (it rides on the error), or the task
        was cancelled (its CANCELLED result went out first)."""
        self.error_code = getattr(exc, "code", None) or type(exc).__name__
        event = getattr(exc, "event", None)
        if event is not None:
            self.result, self.published = event, False
        elif isinstance(exc, asyncio.CancelledError):
            self.status, self.error_code = "FAILED", "CANCELLED"
        else:  # the caller takes any error out of the runner as a result not published
            self.status = "UNPUBLISHED"

    # -- the summary -----------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        result = self.result
        usage = result.usage if result is not None else {}
        after = self.after_usage or {}  # the memory write's calls, made after the result: they cost too
        calls = [*usage.get("calls", []), *after.get("calls", [])]
        meta = result.meta.model_dump(exclude_none=True) if result is not None else {}
        status = result.status if result is not None else self.status
        if result is not None and self.published is False:
            status = "UNPUBLISHED"
        nodes: dict[str, dict[str, Any]] = {name: {"latency_ms": ms} for name, ms in self.node_ms.items()}
        for name, code in self.node_errors.items():
            nodes.setdefault(name, {})["code"] = code
        for call in calls:
            node = nodes.setdefault(str(call.get("node")), {})
            node["model_calls"] = node.get("model_calls", 0) + 1
            node["model"] = call.get("model")
            for key in TOKEN_FIELDS:
                node[key] = node.get(key, 0) + int(call.get(key) or 0)
            node["cost_usd"] = round(node.get("cost_usd", 0.0) + float(call.get("cost_usd") or 0.0), 8)
        error = result.error if result is not None else None
        return {
            "event": SUMMARY_EVENT,
            "requestId": self.request_id,
            "userHash": self.fields.get("userHash"),
            "status": status,
            "code": error.code if error is not None else self.error_code,
            "retryable": error.retryable if error is not None else None,
            "intent": meta.get("intent") or self.fields.get("intent"),
            "action": meta.get("action"),
            "provider": meta.get("provider", self.provider),
            "latency_ms": round((time.perf_counter() - self.started) * 1000, 1),
            "model_calls": len(calls),
            **{key: sum(int(c.get(key) or 0) for c in calls) for key in TOKEN_FIELDS},
            "cost_usd": round(usage.get("cost_usd", 0.0) + after.get("cost_usd", 0.0), 8),
            "degraded": list(meta.get("degraded") or []),
            "tokens_streamed": int(meta.get("tokens_streamed") or 0),
            "tokens_lost": int(meta.get("tokens_lost") or 0),
            "remembered": self.remembered,  # after the result: {saved, updated?, retired?} or {saved: 0, error}
            "nodes": nodes,
        }


TOKEN_FIELDS = ("input_tokens", "output_tokens", "thinking_tokens", "cached_input_tokens")


@contextlib.asynccontextmanager
async def observe_request(raw: Any, deps: Any) -> AsyncIterator[Observation]:  # deps: app.dependencies.Dependencies
    """Around the runner's handling of one delivery: binds the log context, times the graph's
    nodes, and at the end logs the summary line and hands it to metrics and traces."""
    telemetry = deps.telemetry or _NO_TELEMETRY
    observation = Observation(raw, telemetry, getattr(deps.llm, "name", None))
    telemetry.in_flight += 1
    token = _observation.set(observation)
    callbacks_token = _set_graph_callbacks(observation)
    try:
        with bind_request(observation.fields):
            try:
                yield observation
            except BaseException as exc:
                observation.failed(exc)
                raise
            finally:
                _finish(observation)
    finally:
        _graph_callbacks.reset(callbacks_token)
        _observation.reset(token)
        telemetry.in_flight -= 1
        idle = telemetry.in_flight == 0 and (telemetry.metrics is not None or telemetry.tracing is not None)
        if idle and observation.error_code != "CANCELLED":  # a shutdown's grace is for results, not metrics
            await telemetry.flush()


def _finish(observation: Observation) -> None:
    try:
        summary = observation.summary()
        log.info(_summary_text(summary), extra={"fields": summary, "code": summary["code"]})
        if observation.telemetry.metrics is not None:
            observation.telemetry.metrics.add(summary)
        if observation.spans is not None:
            observation.spans.end_request(summary)
    except Exception:  # telemetry must never cost a request its result
        logging.getLogger("reppy.telemetry").exception("request summary failed")


def _summary_text(summary: dict[str, Any]) -> str:
    """The summary as the text format shows it (JSON lines carry every field besides)."""
    nodes = " ".join(f"{name}={node.get('latency_ms', 0):g}ms" for name, node in summary["nodes"].items())
    tokens = "/".join(str(summary[key]) for key in TOKEN_FIELDS)
    code = f" {summary['code']}" if summary["code"] else ""
    return (
        f"request {summary['status']}{code} in {summary['latency_ms']:g}ms, intent {summary['intent']}, "
        f"tokens in/out/thinking/cached-in {tokens}, ${summary['cost_usd']:g}"
        + (f", degraded {','.join(summary['degraded'])}" if summary["degraded"] else "")
        + (f", {summary['tokens_lost']} tokens lost" if summary["tokens_lost"] else "")
        + (f" | {nodes}" if nodes else "")
    )


# -- the graph callback: node timings (and spans) without touching the nodes ----------------------

_graph_callbacks: ContextVar[Any] = ContextVar("reppy_graph_callbacks", default=None)
_hook_registered = False


def _set_graph_callbacks(observation: Observation):
    """LangChain adds the handler in this context variable to every run started under it — the
    graph and its nodes — as it does for LangSmith's tracer."""
    global _hook_registered
    from app.node_timing import NodeTimer

    if not _hook_registered:
        from langchain_core.tracers.context import register_configure_hook

        register_configure_hook(_graph_callbacks, inheritable=True)
        _hook_registered = True
    return _graph_callbacks.set(NodeTimer(observation))


def instrument(deps: Any) -> None:  # deps: app.dependencies.Dependencies
    """Called once per Dependencies: telemetry from the settings and — only when traces are on —
    the adapters wrapped in spans."""
    if deps.telemetry is None:
        deps.telemetry = Telemetry.from_settings(deps.settings)
    if deps.telemetry.tracing is not None:
        deps.telemetry.tracing.instrument(deps)


_NO_TELEMETRY = Telemetry()


def _as_dict(raw: Any) -> dict[str, Any] | None:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _request_id(body: dict[str, Any] | None) -> str | None:
    if body is None:
        return None
    from core.contracts import readable_request_id

    return readable_request_id(body)
