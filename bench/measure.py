"""The measured phases. Each runs requests through `app.runner.handle` — claim, the compiled graph,
token events, one result — with dependencies built by the composition root from settings, as the
OCI Function builds them: the real Gemini client, the HTTP VM client, Qdrant local mode, and (at
realistic latency) the OCI Streaming emitter against the local OCI stand-in.

- realistic:   one request at a time per intent; end-to-end against the critical path of model calls
               as the stand-in timed them, the worker's own time, first-token delays.
- sequential:  chat through the seed's order (planner after the router) and through the graph,
               alternately: the user-visible first token of each.
- overhead:    the same with zero-latency stand-ins: what is left is the worker's own cost.
- concurrency: N chat requests at once in this one process.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.dependencies import Dependencies, build_dependencies
from app.runner import handle
from bench.config import BenchConfig
from bench.probe import CURRENT, Probed, ProbedEmitter, RequestProbe
from bench.scenarios import SCENARIOS, Scenario, node_of
from bench.servers import GEMINI_KEY, REPO, VM_TOKEN, BenchServers
from core.settings import Settings

STREAM_ID = "ocid1.stream.oc1.iad.aaaaaaaabenchstream"
QUEUE_ID = "ocid1.queue.oc1.iad.aaaaaaaabenchqueue"


@dataclass
class OciStream:
    """The local OCI Streaming stand-in and an SDK config whose key it verifies."""

    standin: Any
    config_file: Path

    @classmethod
    def start(cls, directory: Path) -> OciStream:
        from standins.oci import OciStandIn
        from standins.oci_identity import OciTestIdentity

        identity = OciTestIdentity.generate()
        standin = OciStandIn(identity.public_key).start()
        standin.add_queue(QUEUE_ID)
        return cls(standin, identity.write_config(directory))

    def function_env(self) -> dict[str, str]:
        """What a Function instance publishes with: tokens to Streaming, results to the Queue (its
        messages endpoint looked up with GetQueue, as a Function without OCI_QUEUE_ENDPOINT does)."""
        return {
            "OCI_STREAM_ID": STREAM_ID,
            "OCI_STREAM_ENDPOINT": self.standin.endpoint,
            "OCI_RESULT_QUEUE_ID": QUEUE_ID,
            "OCI_QUEUE_ADMIN_ENDPOINT": self.standin.queue_admin_endpoint,
            "OCI_AUTH": "config",
            "OCI_CONFIG_FILE": str(self.config_file),
        }

    def first_event_at(self, request_id: str) -> float | None:
        """When the stand-in stored this request's first token event, on the monotonic clock."""
        to_monotonic = time.time() - time.monotonic()
        with self.standin.lock:
            stored = [m for m in self.standin.stream if m.key == request_id]
        first = [m for m in stored if m.event().get("seq") == 1]
        return first[0].received_at - to_monotonic if first else None

    def events(self, request_id: str) -> int:
        return len(self.standin.stream_events(request_id))

    def stop(self) -> None:
        self.standin.stop()


@dataclass
class Worker:
    """One warm instance: dependencies reused by every request, and the probes of its requests."""

    deps: Dependencies
    probes: dict[str, RequestProbe] = field(default_factory=dict)
    messages: itertools.count = field(default_factory=itertools.count)

    async def run(self, scenario: Scenario, request_id: str) -> RequestProbe:
        request = scenario.request(request_id, next(self.messages))
        probe = self.probes[request_id] = RequestProbe(request_id)
        token = CURRENT.set(probe)
        try:
            await handle(request, self.deps)
        finally:
            CURRENT.reset(token)
        return probe


def build_worker(
    servers: BenchServers, qdrant_path: Path, *, memory: Any = None, oci: OciStream | None = None
) -> Worker:
    values: dict[str, Any] = {
        "LLM_PROVIDER": "gemini",
        "GOOGLE_API_KEY": GEMINI_KEY,
        "GEMINI_BASE_URL": servers.gemini_url,
        "VM_INTERNAL_BASE_URL": servers.vm_url,
        "VM_INTERNAL_TOKEN": VM_TOKEN,
        "QDRANT_PATH": str(qdrant_path),
        "PROMPTS_DIR": REPO / "prompts",
        "LOG_LEVEL": "WARNING",
    }
    if oci is not None:
        values.update(
            OCI_STREAM_ID=STREAM_ID,
            OCI_STREAM_ENDPOINT=oci.standin.endpoint,
            OCI_AUTH="config",
            OCI_CONFIG_FILE=str(oci.config_file),
        )
    settings = Settings(_env_file=None, **values)
    probes: dict[str, RequestProbe] = {}
    overrides = {"results": ProbedEmitter(probes)}
    if memory is not None:
        overrides["memory"] = memory
    if oci is None:
        overrides["tokens"] = ProbedEmitter(probes)
    deps = build_dependencies(settings, warm_up=True, **overrides)  # as a Function instance is built
    if oci is not None:
        deps.tokens = ProbedEmitter(probes, tokens=deps.tokens)  # timing in front of the real emitter
    deps.llm, deps.vm, deps.memory = (Probed(deps.llm, "llm"), Probed(deps.vm, "vm"), Probed(deps.memory, "memory"))
    return Worker(deps, probes)


# --- realistic latency ------------------------------------------------------------------------


async def realistic(
    worker: Worker, servers: BenchServers, config: BenchConfig, oci: OciStream | None, log
) -> dict[str, Any]:
    per_intent: dict[str, Any] = {}
    router_calls: list[dict[str, Any]] = []
    ports: set[int] = set()
    measured_calls = 0
    # A warm instance: chat's calls open the connections to both models (other intents reuse them).
    for n in range(config.warmup):
        await _checked(worker, SCENARIOS["chat"], f"bench-warm-{n}-{time.time_ns()}")
    for name, scenario in SCENARIOS.items():
        calls_seen = len(servers.schedule())
        samples = []
        for n in range(config.iterations):
            request_id = f"bench-{name}-{n}-{time.time_ns()}"
            probe = await _checked(worker, scenario, request_id)
            calls = servers.schedule(calls_seen)
            calls_seen += len(calls)
            measured_calls += len(calls)
            ports.update(c["client_port"] for c in calls)
            router_calls += [c for c in calls if node_of(c) in ("route_intent", "plan_chat", "remember")]
            samples.append(_sample(scenario, probe, calls, oci))
        per_intent[name] = _summarise(samples)
        log(
            f"  {name:<9} e2e p50 {per_intent[name]['e2e_p50_ms']:>8.0f} ms   critical path "
            f"{per_intent[name]['critical_p50_ms']:>8.0f} ms   ratio {per_intent[name]['ratio']:.3f}"
        )
    return {
        "intents": per_intent,
        "gemini_calls": measured_calls,
        "gemini_connections": len(ports),  # new TCP connections the client opened for those calls
        "router_thinking_budgets": sorted({c["thinking_budget"] for c in router_calls}, key=str),
        "router_thinking_levels": sorted({c.get("thinking_level") for c in router_calls}, key=str),
        "router_max_output_tokens": max((c["max_output_tokens"] or 0) for c in router_calls) if router_calls else None,
    }


def _sample(
    scenario: Scenario, probe: RequestProbe, calls: list[dict[str, Any]], oci: OciStream | None
) -> dict[str, Any]:
    by_node: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        by_node.setdefault(node_of(call), []).append(call)
    durations = {node: sum(c["finished"] - c["arrived"] for c in group) for node, group in by_node.items()}
    stages = [[durations.get(node, 0.0) for node in stage] for stage in scenario.stages]
    critical = sum(max(stage) for stage in stages)
    sequential = sum(sum(stage) for stage in stages)
    sample: dict[str, Any] = {
        "e2e_ms": probe.e2e_s * 1000,
        "critical_ms": critical * 1000,
        "ratio": probe.e2e_s / critical if critical else None,
        "sequential_ms": sequential * 1000,
        "vs_sequential": probe.e2e_s / sequential if sequential else None,
        # What waiting for the planner beside the router costs a route that drops the plan.
        "plan_wait_ms": (max(stages[0]) - durations.get("route_intent", 0.0)) * 1000,
        "plan_cost_usd": _cost_of(probe, "plan_chat"),
        "own_ms": probe.own_s() * 1000,
        "calls": {node: round(seconds * 1000, 1) for node, seconds in durations.items()},
        "tokens": probe.tokens,
    }
    remember = by_node.get("remember")
    answer = [c for stage in scenario.stages[1:] for node in stage for c in by_node.get(node, [])]
    if remember and answer:
        # The memory extraction is off the critical path when it ended before the answer did.
        sample["remember_overlapped"] = remember[-1]["finished"] <= answer[-1]["finished"]
    streamed = by_node.get("respond_chat")
    if streamed and probe.first_token_at is not None:
        sample["first_token_user_ms"] = (probe.first_token_at - probe.started) * 1000
        sent = streamed[0]["first_byte"]
        sample["first_token_ms"] = (probe.first_token_at - sent) * 1000
        if oci is not None:
            stored = oci.first_event_at(probe.request_id)
            if stored is not None:
                sample["first_token_stream_ms"] = (stored - sent) * 1000
    return sample


def _summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    e2e = [s["e2e_ms"] for s in samples]
    summary: dict[str, Any] = {
        "n": len(samples),
        "e2e_p50_ms": percentile(e2e, 50),
        "e2e_p95_ms": percentile(e2e, 95),
        "critical_p50_ms": percentile([s["critical_ms"] for s in samples], 50),
        "ratio": percentile([s["ratio"] for s in samples if s["ratio"]], 50),
        "ratio_max": max(s["ratio"] for s in samples if s["ratio"]),
        "own_p50_ms": percentile([s["own_ms"] for s in samples], 50),
        "sequential_p50_ms": percentile([s["sequential_ms"] for s in samples], 50),
        "vs_sequential": percentile([s["vs_sequential"] for s in samples if s["vs_sequential"]], 50),
        "plan_wait_p50_ms": percentile([s["plan_wait_ms"] for s in samples], 50),
        "plan_cost_usd": statistics.fmean(s["plan_cost_usd"] for s in samples),
        "calls_p50_ms": {
            node: percentile([s["calls"].get(node, 0.0) for s in samples], 50) for node in samples[0]["calls"]
        },
    }
    overlapped = [s["remember_overlapped"] for s in samples if "remember_overlapped" in s]
    if overlapped:
        summary["remember_off_critical_path"] = all(overlapped)
    for key in ("first_token_ms", "first_token_stream_ms", "first_token_user_ms"):
        values = [s[key] for s in samples if key in s]
        if values:
            summary[f"{key[:-3]}_p50_ms"] = percentile(values, 50)
            summary[f"{key[:-3]}_max_ms"] = max(values)
    return summary


def _cost_of(probe: RequestProbe, node: str) -> float:
    calls = probe.result.usage.get("calls", []) if probe.result is not None else []
    return sum(c.get("cost_usd") or 0.0 for c in calls if c.get("node") == node)


# --- the sequential baseline ----------------------------------------------------------------------


async def sequential(worker: Worker, config: BenchConfig, log) -> dict[str, Any]:
    """Chat with the planner after the router (the seed's order) and with the graph as it is,
    alternately, so a busy moment on the machine hits both alike. The runner runs whichever graph
    `graph.graph.graph` names, so the baseline is patched in there for its requests only."""
    from unittest import mock

    from bench.sequential import sequential_graph

    scenario, baseline = SCENARIOS["chat"], sequential_graph()
    runs: dict[str, list[RequestProbe]] = {"graph": [], "sequential": []}
    for n in range(config.iterations):
        runs["graph"].append(await _checked(worker, scenario, f"bench-par-{n}-{time.time_ns()}"))
        with mock.patch("graph.graph.graph", baseline):
            runs["sequential"].append(await _checked(worker, scenario, f"bench-seq-{n}-{time.time_ns()}"))
    figures: dict[str, Any] = {"n": config.iterations}
    for name, probes in runs.items():
        figures[name] = {
            "e2e_p50_ms": percentile([p.e2e_s * 1000 for p in probes], 50),
            "first_token_user_p50_ms": percentile([(p.first_token_at - p.started) * 1000 for p in probes], 50),
        }
    figures["first_token_speedup"] = (
        figures["sequential"]["first_token_user_p50_ms"] / figures["graph"]["first_token_user_p50_ms"]
    )
    log(
        f"  first token (from the request): sequential {figures['sequential']['first_token_user_p50_ms']:.0f} ms, "
        f"now {figures['graph']['first_token_user_p50_ms']:.0f} ms: {figures['first_token_speedup']:.2f}×"
    )
    return figures


# --- zero latency ---------------------------------------------------------------------------------


async def overhead(worker: Worker, config: BenchConfig, log) -> dict[str, Any]:
    per_intent = {}
    for name, scenario in SCENARIOS.items():
        for n in range(config.warmup):
            await _checked(worker, scenario, f"bench-zwarm-{name}-{n}-{time.time_ns()}")
        probes = [
            await _checked(worker, scenario, f"bench-zero-{name}-{n}-{time.time_ns()}")
            for n in range(config.overhead_iterations)
        ]
        per_intent[name] = {
            "n": len(probes),
            "own_p50_ms": percentile([p.own_s() * 1000 for p in probes], 50),
            "own_p95_ms": percentile([p.own_s() * 1000 for p in probes], 95),
            "e2e_p50_ms": percentile([p.e2e_s * 1000 for p in probes], 50),
            "adapters_p50_ms": percentile([p.adapter_s() * 1000 for p in probes], 50),
        }
        log(
            f"  {name:<9} worker's own {per_intent[name]['own_p50_ms']:6.2f} ms   whole request "
            f"{per_intent[name]['e2e_p50_ms']:6.1f} ms (clients and local servers included)"
        )
    return per_intent


# --- concurrency ----------------------------------------------------------------------------------


async def concurrency(worker: Worker, config: BenchConfig, oci: OciStream | None) -> dict[str, Any]:
    scenario = SCENARIOS["chat"]
    ids = [f"bench-conc-{n}-{time.time_ns()}" for n in range(config.concurrency)]
    started = time.monotonic()
    probes = await asyncio.gather(*(worker.run(scenario, request_id) for request_id in ids), return_exceptions=True)
    wall = time.monotonic() - started
    done = [p for p in probes if isinstance(p, RequestProbe) and p.result is not None]
    errors = [
        p for p in probes if not isinstance(p, RequestProbe) or p.result is None or p.result.status != scenario.status
    ]
    e2e = [p.e2e_s * 1000 for p in done]
    lost = 0
    if oci is not None:
        lost = sum(p.tokens - oci.events(p.request_id) for p in done)
    return {
        "n": len(ids),
        "errors": len(errors),
        "error_codes": sorted(
            {
                (p.result.error.code if p.result and p.result.error else "NO_RESULT")
                for p in errors
                if isinstance(p, RequestProbe)
            }
        ),
        "wall_s": wall,
        "throughput_rps": len(done) / wall if wall else None,
        "e2e_p50_ms": percentile(e2e, 50) if e2e else None,
        "e2e_p95_ms": percentile(e2e, 95) if e2e else None,
        "tokens_not_in_stream": lost,
    }


# --- helpers --------------------------------------------------------------------------------------


async def _checked(worker: Worker, scenario: Scenario, request_id: str) -> RequestProbe:
    probe = await worker.run(scenario, request_id)
    result = probe.result
    if result is None or result.status != scenario.status or result.meta.intent != scenario.intent:
        got = "no result" if result is None else f"{result.status} {result.meta.intent} {result.error}"
        raise RuntimeError(f"bench request {request_id} ({scenario.name}) did not end as expected: {got}")
    return probe


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of three runs is their maximum)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    return statistics.median(values)
