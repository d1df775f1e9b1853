"""The benchmark's machinery with tiny settings (`--quick`): every phase runs against the real
clients and the local stand-ins, and the results hold every figure the issue asks for. Timings
are never asserted here; only what must hold however fast the machine is."""

from __future__ import annotations

import asyncio
import json

import pytest

from app.cli import main as reppy_worker
from bench.cli import run
from bench.config import BenchConfig
from bench.report import TARGETS, table

pytestmark = pytest.mark.integration

REQUIRED = [
    "chat_vs_sequential",
    "chat_ratio",
    "clarify_ratio",
    "first_token_speedup",
    "cold_first_request_s",
    "plan_waste_usd_per_1k",
    "generate_ratio",
    "update_ratio",
    "overhead_ms",
    "first_token_ms",
    "cold_import_s",
    "cold_import_ratio",
    "cold_import_floor_s",
    "concurrency_errors",
    "concurrency_p95_ratio",
    "peak_rss_mb",
]


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    """One quick run (about 15 s: fresh interpreters, server processes, every phase) for the module."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    lines: list[str] = []
    figures = asyncio.run(run(BenchConfig.quick(), out, log=lines.append))
    assert json.loads(out.read_text(encoding="utf-8")) == figures  # what was returned is what was written
    return figures


def test_every_figure_is_there(figures):
    assert all(isinstance(figures[key], (int, float)) for key in REQUIRED), {k: figures.get(k) for k in REQUIRED}
    assert set(figures["targets"]) == {key for key, *_ in TARGETS}
    assert "| chat |" in table(figures) and "| clarify |" in table(figures)


def test_the_figures_make_sense(figures):
    intents = figures["details"]["realistic"]["intents"]
    for name, measured in intents.items():
        # The chain's model calls run one after another inside the request: it cannot be shorter.
        assert measured["critical_p50_ms"] > 0 and measured["ratio"] >= 1.0, name
    assert set(intents["chat"]["calls_p50_ms"]) == {"route_intent", "plan_chat", "respond_chat"}
    # The planner runs beside the router on every route; only chat uses its plan.
    assert set(intents["generate"]["calls_p50_ms"]) == {"route_intent", "plan_chat", "generate_routine", "remember"}
    # Side by side beats one after another; a dropped plan still costs, and is counted.
    assert intents["chat"]["critical_p50_ms"] < intents["chat"]["sequential_p50_ms"]
    assert figures["plan_waste_usd_per_1k"] > 0 and figures["first_token_speedup"] > 0
    assert figures["first_token_ms"] >= 0 and figures["first_token_stream_ms"] >= figures["first_token_ms"]
    assert figures["overhead_ms"] > 0 and figures["peak_rss_mb"] > 0
    concurrency = figures["details"]["concurrency"]
    assert concurrency["errors"] == 0 and concurrency["tokens_not_in_stream"] == 0
    # `import func` stays light: none of what a request needs is loaded by importing the handler.
    assert figures["details"]["cold_import"]["heavy_modules_after_import"] == []
    # The floor is a part of what every dependency up front costs.
    assert 0 < figures["cold_import_floor_s"] < figures["eager_import_s"]
    # Router, planner and memory extraction run with minimal thinking and a small output cap.
    realistic = figures["details"]["realistic"]
    assert realistic["router_thinking_levels"] == ["MINIMAL"] and realistic["router_thinking_budgets"] == [None]
    assert realistic["router_max_output_tokens"] <= 512


def test_reppy_worker_bench_is_the_benchmark(capsys):
    with pytest.raises(SystemExit) as done:
        reppy_worker(["bench", "--help"])
    assert done.value.code == 0 and "--iterations" in capsys.readouterr().out
