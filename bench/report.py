"""bench/results.json, bench/results.md and the table printed after a run; the targets checked
against them (here, not in tests: a shared machine's figures drift)."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

# (key, limit, how it compares, what the target is)
TARGETS = [
    ("chat_vs_sequential", 0.95, "<=", "CHAT e2e ≤ 0.95 × route + plan + answer one after another"),
    ("chat_ratio", 1.05, "<=", "CHAT e2e ≤ 1.05 × critical-path model time"),
    ("generate_ratio", 1.05, "<=", "GENERATE e2e ≤ 1.05 × critical path"),
    ("update_ratio", 1.05, "<=", "UPDATE e2e ≤ 1.05 × critical path"),
    ("clarify_ratio", 1.10, "<=", "CLARIFY e2e ≤ 1.10 × critical path"),
    ("overhead_ms", 5.0, "<", "graph overhead < 5 ms per request"),
    ("first_token_ms", 50.0, "<", "first-token delay < 50 ms"),
    ("cold_import_s", 1.5, "<=", "cold import of the handler ≤ 1.5 s"),
    ("cold_import_ratio", 0.5, "<=", "cold import ≤ 0.5 × eager import"),
    ("cold_first_request_s", 1.0, "<=", "fresh instance: first request ≤ 1.0 s beyond a warm one"),
    ("concurrency_errors", 0, "<=", "50 concurrent: 0 errors"),
    ("concurrency_p95_ratio", 1.15, "<=", "50 concurrent: p95 ≤ 1.15 × single request"),
]
NON_CHAT = ("generate", "update", "clarify")
INTENTS = ("chat", "generate", "update", "clarify")


def results(
    config: dict[str, Any],
    realistic: dict[str, Any],
    overhead: dict[str, Any],
    concurrency: dict[str, Any],
    cold: dict[str, Any],
    instance: dict[str, Any],
    elapsed_s: float,
    *,
    sequential: dict[str, Any],
    instance_realistic: dict[str, Any],
) -> dict[str, Any]:
    intents = realistic["intents"]
    chat = intents["chat"]
    single = chat["e2e_p50_ms"]
    figures: dict[str, Any] = {
        "chat_vs_sequential": chat["vs_sequential"],
        "chat_ratio": chat["ratio"],
        "generate_ratio": intents["generate"]["ratio"],
        "update_ratio": intents["update"]["ratio"],
        "clarify_ratio": intents["clarify"]["ratio"],
        "overhead_ms": max(o["own_p50_ms"] for o in overhead.values()),
        "first_token_ms": chat.get("first_token_p50_ms"),
        "first_token_stream_ms": chat.get("first_token_stream_p50_ms"),
        "first_token_speedup": sequential["first_token_speedup"],
        # The planner's calls on routes that drop its plan, per 1,000 such requests (intents alike).
        "plan_waste_usd_per_1k": 1000 * sum(intents[name]["plan_cost_usd"] for name in NON_CHAT) / len(NON_CHAT),
        "plan_wait_ms": max(intents[name]["plan_wait_p50_ms"] for name in NON_CHAT),
        "cold_import_s": cold["cold_import_s"],
        "cold_import_ratio": cold["cold_import_ratio"],
        "eager_import_s": cold["eager_import_s"],
        # What a cold start costs the user: a fresh instance's first chat request, at realistic
        # latency, beyond a warm instance's (what loads beside the router call is hidden in its wait).
        "cold_first_request_s": instance_realistic["cold_first_request_s"] - instance_realistic["warm_request_s"],
        # Its floor: the import of the libraries no router call can leave without (fresh interpreter).
        "cold_import_floor_s": cold["floor_import_s"],
        # The same instance's first request with zero-latency stand-ins: nothing to hide behind, so
        # every load is on its path — the CPU floor of a cold start (with its CPU time, every thread).
        "cold_first_request_zero_latency_s": instance["cold_first_request_s"],
        "cold_first_request_cpu_s": instance["cold_first_request_cpu_s"],
        "peak_rss_mb": instance["peak_rss_mb"],
        "concurrency_errors": concurrency["errors"],
        "concurrency_p95_ratio": concurrency["e2e_p95_ms"] / single if concurrency["e2e_p95_ms"] else None,
        "concurrency_throughput_rps": concurrency["throughput_rps"],
    }
    figures["targets"] = {key: _met(figures.get(key), limit, op) for key, limit, op, _ in TARGETS}
    figures["details"] = {
        "realistic": realistic,
        "overhead": overhead,
        "concurrency": concurrency,
        "cold_import": cold,
        "instance": instance,
        "instance_realistic": instance_realistic,
        "sequential": sequential,
    }
    figures["config"] = config
    figures["run"] = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "elapsed_s": round(elapsed_s, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": _cpus(),
        # The machine's 1/5/15-minute load average when the run ended: a shared machine's other
        # work shows here, and in every wall-clock figure.
        "load_avg": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }
    return _rounded(figures)


def write(figures: dict[str, Any], path: Path) -> None:
    """results.json, and beside it results.md: the table with when and where it was measured."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    run, config = figures["run"], figures["config"]
    heading = [
        "# Bench results",
        "",
        f"Written by `reppy-worker bench` at {run['at']} (Python {run['python']}, {run['machine']}, "
        f"{run['cpus']} CPUs, load average {run.get('load_avg')} at the end, {run['elapsed_s']:.0f} s); "
        f"{config['iterations']} requests per intent at "
        f"realistic latency, {config['concurrency']} concurrent. How it measures: "
        "[docs/performance.md](../docs/performance.md). Regenerate, never edit by hand.",
        "",
    ]
    path.with_suffix(".md").write_text("\n".join(heading) + "\n" + table(figures) + "\n", encoding="utf-8")


def table(figures: dict[str, Any]) -> str:
    """Markdown, so docs can show exactly what a run printed."""
    realistic = figures["details"]["realistic"]["intents"]
    overhead = figures["details"]["overhead"]
    lines = [
        "| intent | e2e p50 / p95 (ms) | critical path p50 (ms) | e2e / critical | same calls one after another "
        "(ms) | worker's own (ms, zero latency) |",
        "|---|---|---|---|---|---|",
    ]
    for name in INTENTS:
        r, o = realistic[name], overhead[name]
        lines.append(
            f"| {name} | {r['e2e_p50_ms']:.0f} / {r['e2e_p95_ms']:.0f} | {r['critical_p50_ms']:.0f} | "
            f"{r['ratio']:.3f} | {r['sequential_p50_ms']:.0f} | {o['own_p50_ms']:.2f} |"
        )
    seq = figures["details"]["sequential"]
    conc = figures["details"]["concurrency"]
    cold = figures["details"]["cold_import"]
    lines += ["", "| measure | value | target |", "|---|---|---|"]
    ratios = ("chat_ratio", "generate_ratio", "update_ratio")
    rows = [
        (
            "CHAT e2e ÷ (route + plan + answer), the same calls one after another (p50)",
            f"{figures['chat_vs_sequential']:.3f}",
            ("chat_vs_sequential",),
        ),
        (
            "CHAT first token seen by the user: planner after the router ÷ beside it (p50)",
            f"{seq['sequential']['first_token_user_p50_ms']:.0f} ms ÷ {seq['graph']['first_token_user_p50_ms']:.0f} ms"
            f" = {figures['first_token_speedup']:.2f}×",
            (),
        ),
        (
            "CHAT / GENERATE / UPDATE: e2e ÷ critical path (p50)",
            " / ".join(f"{figures[key]:.3f}" for key in ratios),
            ratios,
        ),
        ("CLARIFY: e2e ÷ critical path (p50)", f"{figures['clarify_ratio']:.3f}", ("clarify_ratio",)),
        (
            "routes that drop the plan: wait for it beyond the router (worst intent, p50)",
            f"{figures['plan_wait_ms']:.0f} ms",
            (),
        ),
        ("the dropped plans' cost per 1,000 non-chat requests", f"${figures['plan_waste_usd_per_1k']:.4f}", ()),
        ("graph overhead per request (worst intent, p50)", f"{figures['overhead_ms']:.2f} ms", ("overhead_ms",)),
        ("first token: stand-in → token emitter (p50)", _ms(figures["first_token_ms"]), ("first_token_ms",)),
        ("first token: stand-in → OCI Streaming stand-in (p50)", _ms(figures["first_token_stream_ms"]), ()),
        (
            "cold `import func` / eager imports",
            f"{figures['cold_import_s']:.3f} s / {figures['eager_import_s']:.2f} s "
            f"(ratio {figures['cold_import_ratio']:.3f})",
            ("cold_import_s", "cold_import_ratio"),
        ),
        ("heavy modules loaded by `import func`", ", ".join(cold["heavy_modules_after_import"]) or "none", ()),
        (
            "fresh instance at realistic latency: first chat request beyond a warm one",
            f"{figures['cold_first_request_s']:.2f} s (CPU {_cpu_extra(figures):.2f} s)",
            ("cold_first_request_s",),
        ),
        (
            f"its floor: importing {', '.join(cold['floor_modules'])} in a fresh interpreter (no router call "
            "leaves before)",
            f"{figures['cold_import_floor_s']:.2f} s",
            (),
        ),
        (
            "fresh instance with zero-latency stand-ins: first request (every load on its path)",
            f"{figures['cold_first_request_zero_latency_s']:.2f} s (CPU {figures['cold_first_request_cpu_s']:.2f} s)",
            (),
        ),
        ("peak RSS (fresh instance, one request per intent)", f"{figures['peak_rss_mb']:.0f} MB", ()),
        (f"{conc['n']} concurrent chat requests: errors", str(conc["errors"]), ("concurrency_errors",)),
        (
            f"{conc['n']} concurrent: p95 / single p50",
            f"{conc['e2e_p95_ms']:.0f} ms / "
            f"{realistic['chat']['e2e_p50_ms']:.0f} ms = {figures['concurrency_p95_ratio']:.3f}",
            ("concurrency_p95_ratio",),
        ),
        (f"{conc['n']} concurrent: throughput", f"{conc['throughput_rps']:.1f} requests/s", ()),
    ]
    labels = {key: text for key, _, _, text in TARGETS}
    for label, value, keys in rows:
        if keys == ratios:
            missed = [key.split("_")[0].upper() for key in keys if not figures["targets"][key]]
            targets = "each ≤ 1.05: " + (f"NOT met ({', '.join(missed)})" if missed else "met")
        else:
            targets = "; ".join(f"{labels[key]}: {'met' if figures['targets'][key] else 'NOT met'}" for key in keys)
        lines.append(f"| {label} | {value} | {targets} |")
    return "\n".join(lines)


def _cpu_extra(figures: dict[str, Any]) -> float:
    instance = figures["details"]["instance_realistic"]
    return instance["cold_first_request_cpu_s"] - instance["warm_request_cpu_s"]


def _met(value: Any, limit: float, op: str) -> bool:
    if value is None:
        return False
    return value <= limit if op == "<=" else value < limit


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} ms"


def _cpus() -> int | None:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
