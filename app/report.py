"""`reppy-worker report LOGFILE…`: a day of production logs, read without a dashboard.

Reads the worker's JSON logs — as written (one object a line), or as OCI Logging exports them
(each line, or a JSON array of entries, wrapping the worker's line under `data`/`logContent`,
as an object or a JSON string in `message`) — keeps the request summary lines, and prints per
intent and per node: requests, p50/p95 latency, cost and failures; then failures by error code,
degraded sources and tokens lost. Other lines are skipped and counted."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from app.telemetry import SUMMARY_EVENT

FAILED = ("FAILED", "UNPUBLISHED")
NOT_ROUTED = "(not routed)"  # failed or rejected before the router decided


def report_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="reppy-worker report",
        description="p50/p95 latency, cost and failures per intent and node, from the worker's JSON logs.",
    )
    parser.add_argument("logfiles", nargs="+", type=Path, help="JSON log files ('-' for stdin)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--user", help="only this user's requests (hashed with LOG_USER_HASH_KEY, as in the logs)")
    args = parser.parse_args(argv)
    summaries, skipped = [], 0
    for path in args.logfiles:
        try:
            text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            print(f"reppy-worker report: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return 2
        found, missed = read_summaries(text)
        summaries += found
        skipped += missed
    if args.user:
        from app.logs import hash_key, user_hash
        from core.settings import Settings

        key = hash_key(Settings())
        if key is None:
            print(
                "reppy-worker report: --user needs LOG_USER_HASH_KEY, the key the worker hashed with", file=sys.stderr
            )
            return 2
        summaries = [s for s in summaries if s.get("userHash") == user_hash(args.user, key)]
    figures = aggregate(summaries)
    figures["skipped_lines"] = skipped
    print(json.dumps(figures, indent=2, ensure_ascii=False) if args.json else render(figures))
    return 0 if summaries else 1


def read_summaries(text: str) -> tuple[list[dict[str, Any]], int]:
    """The summary lines in `text`, and how many other non-empty lines there were."""
    stripped = text.lstrip()
    if stripped.startswith("["):  # an OCI Logging download: one JSON array of entries
        try:
            entries = json.loads(stripped)
        except ValueError:
            entries = None
        if isinstance(entries, list):
            found = [s for s in map(_summary_in, entries) if s is not None]
            return found, len(entries) - len(found)
    found, skipped = [], 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            summary = _summary_in(json.loads(line))
        except ValueError:
            summary = None
        if summary is None:
            skipped += 1
        else:
            found.append(summary)
    return found, skipped


def _summary_in(value: Any, depth: int = 0) -> dict[str, Any] | None:
    if depth > 4:
        return None
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    if value.get("event") == SUMMARY_EVENT:
        return value
    for key in ("data", "logContent", "message"):
        found = _summary_in(value.get(key), depth + 1)
        if found is not None:
            return found
    return None


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0-100): a value that occurred, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def aggregate(summaries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    summaries = list(summaries)
    by_intent: dict[str, list[dict]] = defaultdict(list)
    by_node: dict[str, list[dict]] = defaultdict(list)
    failures: dict[str, Counter] = defaultdict(Counter)
    degraded: Counter = Counter()
    for s in summaries:
        intent = s.get("intent") or NOT_ROUTED
        by_intent[intent].append(s)
        for name, node in (s.get("nodes") or {}).items():
            by_node[name].append({**node, "status": s.get("status")})
        if s.get("status") in FAILED:
            failures[s.get("code") or s.get("status")][intent] += 1
        degraded.update(s.get("degraded") or [])
    times = sorted(s["time"] for s in summaries if isinstance(s.get("time"), str))
    return {
        "requests": len(summaries),
        "from": times[0] if times else None,
        "to": times[-1] if times else None,
        "intents": {name: _request_figures(rows) for name, rows in sorted(by_intent.items())},
        "all": _request_figures(summaries),
        "nodes": {name: _node_figures(rows) for name, rows in sorted(by_node.items())},
        "failures": {code: dict(counts) for code, counts in sorted(failures.items(), key=lambda kv: -kv[1].total())},
        "degraded": dict(degraded.most_common()),
        "tokens_lost": sum(int(s.get("tokens_lost") or 0) for s in summaries),
        "invalid": sum(1 for s in summaries if s.get("status") == "INVALID"),
        "skipped": sum(1 for s in summaries if s.get("status") == "SKIPPED"),
    }


def _request_figures(rows: list[dict]) -> dict[str, Any]:
    latencies = [float(r["latency_ms"]) for r in rows if r.get("latency_ms") is not None]
    cost = sum(float(r.get("cost_usd") or 0) for r in rows)
    statuses = Counter(r.get("status") for r in rows)
    return {
        "requests": len(rows),
        "failed": sum(statuses[s] for s in FAILED),
        "statuses": dict(statuses),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "cost_usd": round(cost, 6),
        "cost_per_request_usd": round(cost / len(rows), 6) if rows else 0.0,
        "input_tokens": sum(int(r.get("input_tokens") or 0) for r in rows),
        "output_tokens": sum(int(r.get("output_tokens") or 0) for r in rows),
    }


def _node_figures(rows: list[dict]) -> dict[str, Any]:
    latencies = [float(r["latency_ms"]) for r in rows if r.get("latency_ms") is not None]
    return {
        "runs": len(rows),
        "failed": sum(1 for r in rows if r.get("code")),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "model_calls": sum(int(r.get("model_calls") or 0) for r in rows),
        "input_tokens": sum(int(r.get("input_tokens") or 0) for r in rows),
        "output_tokens": sum(int(r.get("output_tokens") or 0) for r in rows),
        "cost_usd": round(sum(float(r.get("cost_usd") or 0) for r in rows), 6),
    }


def render(figures: dict[str, Any]) -> str:
    lines = [
        f"{figures['requests']} requests"
        + (f" from {figures['from']} to {figures['to']}" if figures["from"] else "")
        + (f" ({figures['skipped_lines']} other lines skipped)" if figures.get("skipped_lines") else ""),
        "",
    ]
    lines += _table(
        ("intent", "requests", "failed", "p50 ms", "p95 ms", "cost USD", "USD/request"),
        [
            (
                name,
                f["requests"],
                f["failed"],
                _ms(f["p50_ms"]),
                _ms(f["p95_ms"]),
                _usd(f["cost_usd"]),
                _usd(f["cost_per_request_usd"]),
            )
            for name, f in [*figures["intents"].items(), ("all", figures["all"])]
        ],
    )
    lines.append("")
    lines += _table(
        ("node", "runs", "failed", "p50 ms", "p95 ms", "tokens in", "tokens out", "cost USD"),
        [
            (
                name,
                f["runs"],
                f["failed"],
                _ms(f["p50_ms"]),
                _ms(f["p95_ms"]),
                f["input_tokens"],
                f["output_tokens"],
                _usd(f["cost_usd"]),
            )
            for name, f in figures["nodes"].items()
        ],
    )
    lines.append("")
    if figures["failures"]:
        lines.append("failures by code:")
        for code, intents in figures["failures"].items():
            spread = ", ".join(f"{intent} {n}" for intent, n in sorted(intents.items()))
            lines.append(f"  {code:<24} {sum(intents.values()):>6}  ({spread})")
    else:
        lines.append("failures by code: none")
    lines.append(f"invalid requests: {figures['invalid']}   skipped (claimed elsewhere): {figures['skipped']}")
    degraded = ", ".join(f"{source} {n}" for source, n in figures["degraded"].items()) or "none"
    lines.append(f"degraded sources: {degraded}")
    lines.append(f"tokens lost: {figures['tokens_lost']}")
    return "\n".join(lines)


def _table(header: tuple, rows: list[tuple]) -> Iterator[str]:
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        cells = [
            str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        yield "  ".join(cells).rstrip()


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _usd(value: float) -> str:
    return f"{value:.4f}"
