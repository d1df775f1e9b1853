"""OpenTelemetry traces: a span for each request, each graph node, and each model, VM, Qdrant and
result/token publishing call, exported over OTLP/HTTP.

Off unless OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set; then, and
only then, the OpenTelemetry SDK is imported and the adapters are wrapped (`instrument`), so a
worker without an endpoint pays nothing. The SDK is the optional `telemetry` extra.

Model calls follow the OpenTelemetry GenAI semantic conventions (span `chat {model}`, kind
CLIENT; gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model, gen_ai.usage.*;
opentelemetry-semantic-conventions 0.66b2, read 2026-11-26). Qdrant calls carry the db.*
attributes. No span carries prompts, answers, user text or the user id (only its keyed hash);
a failure is recorded as its error code, never its message.

Spans are exported in batches by a background thread and flushed when no request is in flight
(app/telemetry.py), after the results are out."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from app.logs import current_node, current_observation
from core.errors import ConfigError

if TYPE_CHECKING:
    from core.settings import Settings

WORKFLOW = "reppy_worker"
FLUSH_TIMEOUT_MS = 3000
# gen_ai.provider.name well-known values (GenAiProviderNameValues); our offline demo is its own.
PROVIDERS = {"gemini": "gcp.gemini"}


class Tracing:
    def __init__(self, provider: Any):
        self.provider = provider
        self.tracer = provider.get_tracer("reppy-worker")

    @classmethod
    def from_settings(cls, settings: Settings) -> Tracing:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ConfigError(
                "an OTLP endpoint is set but the OpenTelemetry SDK is not installed: "
                "pip install 'reppy-worker[telemetry]'"
            ) from None
        endpoint = settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or (
            settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/") + "/v1/traces"
        )
        headers = None
        if settings.OTEL_EXPORTER_OTLP_HEADERS is not None:  # e.g. "Authorization=dataKey%20…" (a secret)
            from opentelemetry.util.re import parse_env_headers

            headers = parse_env_headers(settings.OTEL_EXPORTER_OTLP_HEADERS.get_secret_value(), liberal=True)
        exporter = OTLPSpanExporter(endpoint=endpoint, headers=headers, timeout=5)
        return cls.with_exporter(exporter, service_name=settings.OTEL_SERVICE_NAME)

    @classmethod
    def with_exporter(cls, exporter: Any, *, service_name: str = "reppy-worker", batch: bool = True) -> Tracing:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": service_name}), shutdown_on_exit=False)
        provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
        return cls(provider)

    def flush(self) -> None:
        self.provider.force_flush(FLUSH_TIMEOUT_MS)

    def shutdown(self) -> None:
        self.provider.shutdown()

    def request_spans(self, fields: dict[str, Any]) -> RequestSpans:
        return RequestSpans(self.tracer, fields)

    def instrument(self, deps: Any) -> None:  # deps: app.dependencies.Dependencies
        if not isinstance(deps.llm, _TracedModel):
            deps.llm = _TracedModel(deps.llm, deps.settings.LLM_PRICES)
            deps.vm = _TracedVM(deps.vm)
            deps.memory = _TracedMemory(deps.memory, deps.settings.QDRANT_COLLECTION_MEMORY)
            deps.tokens = _TracedTokens(deps.tokens)
            deps.results = _TracedResults(deps.results)


class RequestSpans:
    """The spans of one request: its root, its nodes, and the calls made inside them."""

    def __init__(self, tracer: Any, fields: dict[str, Any]):
        self._tracer = tracer
        attributes = {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": WORKFLOW}
        attributes.update(
            {
                f"reppy.{k}": v
                for k, v in (("request_id", fields.get("requestId")), ("user_hash", fields.get("userHash")))
                if v
            }
        )
        self.root = tracer.start_span(f"invoke_workflow {WORKFLOW}", attributes=attributes)
        self._nodes: dict[str, Any] = {}

    def _context(self, parent: Any):
        from opentelemetry import trace

        return trace.set_span_in_context(parent)

    def start_node(self, node: str) -> None:
        self._nodes[node] = self._tracer.start_span(
            f"node {node}", context=self._context(self.root), attributes={"langgraph.node": node}
        )

    def end_node(self, node: str, error: str | None = None) -> None:
        span = self._nodes.pop(node, None)
        if span is not None:
            if error:
                _fail(span, error)
            span.end()

    def start_call(self, name: str, kind: str, attributes: dict[str, Any]) -> Any:
        from opentelemetry.trace import SpanKind

        parent = self._nodes.get(current_node() or "") or self.root
        return self._tracer.start_span(
            name, context=self._context(parent), kind=getattr(SpanKind, kind), attributes=attributes
        )

    def end_request(self, summary: dict[str, Any]) -> None:
        for node in list(self._nodes):  # a cancelled run may leave one open
            self.end_node(node, "CANCELLED")
        root = self.root
        for key in ("status", "intent", "action", "code", "latency_ms", "cost_usd", "tokens_lost"):
            if summary.get(key) is not None:
                root.set_attribute(f"reppy.{key}", summary[key])
        root.set_attribute("gen_ai.usage.input_tokens", summary["input_tokens"])
        root.set_attribute("gen_ai.usage.output_tokens", summary["output_tokens"])
        if summary["degraded"]:
            root.set_attribute("reppy.degraded", summary["degraded"])
        if summary["status"] in ("FAILED", "INVALID", "UNPUBLISHED"):
            _fail(root, summary.get("code") or summary["status"])
        root.end()


def _fail(span: Any, code: str) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", code)
    span.set_status(Status(StatusCode.ERROR, code))  # the code only: messages may quote input


@contextlib.contextmanager
def _call_span(name: str, kind: str, attributes: dict[str, Any]) -> Iterator[Any]:
    observation = current_observation()
    spans = observation.spans if observation is not None else None
    if spans is None:  # outside a request (warm-up, Studio): nothing to attach it to
        yield None
        return
    span = spans.start_call(name, kind, attributes)
    try:
        yield span
    except GeneratorExit:  # the consumer stopped reading a stream: not a failure of the call
        raise
    except BaseException as exc:
        _fail(span, getattr(exc, "code", None) or type(exc).__name__)
        raise
    finally:
        span.end()


class _Proxy:
    def __init__(self, target: Any):
        self._target = target

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


# -- the model ---------------------------------------------------------------------------------


class _TracedModel(_Proxy):
    def __init__(self, target: Any, prices: dict):
        super().__init__(target)
        self._prices = prices
        self._provider = PROVIDERS.get(getattr(target, "name", ""), getattr(target, "name", "unknown"))

    def _attributes(self, step: str) -> dict[str, Any]:
        return {"gen_ai.operation.name": "chat", "gen_ai.provider.name": self._provider, "reppy.step": step}

    async def _step(self, step: str, *args: Any, **kwargs: Any) -> Any:
        with _call_span("chat", "CLIENT", self._attributes(step)) as span:
            try:
                generated = await getattr(self._target, step)(*args, **kwargs)
            except Exception as exc:
                self._usage(span, list(getattr(exc, "usage", None) or ()))
                raise
            self._usage(span, generated.usage)
            return generated

    async def route(self, *args: Any, **kwargs: Any) -> Any:
        return await self._step("route", *args, **kwargs)

    async def plan_chat(self, *args: Any, **kwargs: Any) -> Any:
        return await self._step("plan_chat", *args, **kwargs)

    async def generate_program(self, *args: Any, **kwargs: Any) -> Any:
        return await self._step("generate_program", *args, **kwargs)

    async def update_routine(self, *args: Any, **kwargs: Any) -> Any:
        return await self._step("update_routine", *args, **kwargs)

    async def extract_memories(self, *args: Any, **kwargs: Any) -> Any:
        return await self._step("extract_memories", *args, **kwargs)

    async def stream_chat(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        with _call_span("chat", "CLIENT", {**self._attributes("stream_chat"), "gen_ai.request.stream": True}) as span:
            started, first = time.perf_counter(), True
            record: dict[str, Any] = {
                "model": None,
                "input_tokens": 0,
                "output_tokens": 0,
                "thinking_tokens": 0,
                "cached_input_tokens": 0,
            }
            async for chunk in self._target.stream_chat(*args, **kwargs):
                if first and span is not None:
                    span.set_attribute("gen_ai.response.time_to_first_chunk", time.perf_counter() - started)
                first = False
                # Per-chunk usage adds up, as LangChain merges it (nodes/respond_chat.py does the same).
                usage = chunk.usage_metadata or {}
                record["input_tokens"] += usage.get("input_tokens", 0)
                record["output_tokens"] += usage.get("output_tokens", 0)
                record["thinking_tokens"] += (usage.get("output_token_details") or {}).get("reasoning", 0)
                record["cached_input_tokens"] += (usage.get("input_token_details") or {}).get("cache_read", 0)
                record["model"] = chunk.response_metadata.get("model_name") or record["model"]
                yield chunk
            record["model"] = record["model"] or getattr(self._target, "name", "unknown")
            self._usage(span, [record])

    def _usage(self, span: Any, calls: list[dict[str, Any]]) -> None:
        if span is None or not calls:
            return
        from core.usage import call_cost

        model = str(calls[-1].get("model"))
        span.update_name(f"chat {model}")
        span.set_attribute("gen_ai.request.model", model)
        span.set_attribute("gen_ai.response.model", model)
        span.set_attribute("gen_ai.usage.input_tokens", sum(int(c.get("input_tokens") or 0) for c in calls))
        span.set_attribute("gen_ai.usage.output_tokens", sum(int(c.get("output_tokens") or 0) for c in calls))
        span.set_attribute(
            "gen_ai.usage.reasoning.output_tokens", sum(int(c.get("thinking_tokens") or 0) for c in calls)
        )
        span.set_attribute(
            "gen_ai.usage.cache_read.input_tokens", sum(int(c.get("cached_input_tokens") or 0) for c in calls)
        )
        costs = [call_cost(c, self._prices) for c in calls]
        if all(c is not None for c in costs):
            span.set_attribute("reppy.cost_usd", round(sum(costs), 8))
        if len(calls) > 1:
            span.set_attribute("reppy.model_calls", len(calls))


# -- the VM API, Qdrant, and the emitters -----------------------------------------------------------


class _TracedVM(_Proxy):
    async def _call(self, operation: str, *args: Any) -> Any:
        with _call_span(f"vm {operation}", "CLIENT", {"peer.service": "vm-internal-api", "rpc.method": operation}):
            return await getattr(self._target, operation)(*args)

    async def claim(self, request_id: str) -> bool:
        return await self._call("claim", request_id)

    async def get_profile(self, user_id: str) -> dict[str, Any]:
        return await self._call("get_profile", user_id)

    async def get_active_routines(self, user_id: str) -> list[dict[str, Any]]:
        return await self._call("get_active_routines", user_id)

    async def search_exercises(self, query: str) -> list[dict[str, Any]]:
        return await self._call("search_exercises", query)


class _TracedMemory(_Proxy):
    def __init__(self, target: Any, collection: str):
        super().__init__(target)
        self._collection = collection

    def _attributes(self, operation: str) -> dict[str, Any]:
        return {"db.system.name": "qdrant", "db.operation.name": operation, "db.collection.name": self._collection}

    async def search(self, user_id: str, query: str, k: int) -> list[dict[str, Any]]:
        with _call_span(f"search {self._collection}", "CLIENT", self._attributes("search")) as span:
            hits = await self._target.search(user_id, query, k)
            if span is not None:
                span.set_attribute("db.response.returned_rows", len(hits))
            return hits

    async def nearest(self, user_id: str, texts: list[str], k: int) -> list[dict[str, Any]]:
        with _call_span(f"search {self._collection}", "CLIENT", self._attributes("search")) as span:
            hits = await self._target.nearest(user_id, texts, k)
            if span is not None:
                span.set_attribute("db.response.returned_rows", len(hits))
            return hits

    async def add(self, user_id: str, items: list[tuple[str, str]]) -> None:
        with _call_span(f"upsert {self._collection}", "CLIENT", self._attributes("upsert")):
            await self._target.add(user_id, items)

    async def apply(self, user_id: str, changes: Any) -> None:  # what remember writes (MemoryChanges)
        with _call_span(f"update {self._collection}", "CLIENT", self._attributes("update")):
            await self._target.apply(user_id, changes)


class _TracedTokens(_Proxy):
    async def emit_token(self, event: Any) -> None:  # one per token: far too many for spans
        await self._target.emit_token(event)

    async def flush(self, request_id: str) -> None:
        attributes = {"messaging.operation.type": "send", "reppy.emitter": _emitter_name(self._target)}
        with _call_span("flush tokens", "PRODUCER", attributes):
            await self._target.flush(request_id)


class _TracedResults(_Proxy):
    async def emit_result(self, event: Any) -> None:
        attributes = {"messaging.operation.type": "send", "reppy.emitter": _emitter_name(self._target)}
        with _call_span("publish result", "PRODUCER", attributes):
            await self._target.emit_result(event)


def _emitter_name(emitter: Any) -> str:
    """QueueResultEmitter (OCI Queue), StreamTokenEmitter (OCI Streaming), JsonLinesEmitter, …"""
    return type(emitter).__name__
