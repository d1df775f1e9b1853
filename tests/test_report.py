"""`reppy-worker report LOGFILE`: p50/p95 latency, cost and failures per intent and node from JSON logs."""

from __future__ import annotations

import json

from app.cli import main
from app.dependencies import build_dependencies
from app.logs import user_hash
from app.report import percentile
from app.runner import handle
from tests.conftest import DEMO_USER, OTHER_USER, request
from tests.emitters import CollectingEmitter
from tests.log_fixtures import HASH_KEY
from tests.test_telemetry_logs import DownVM


def summary_line(n: int, **fields) -> dict:
    return {
        "time": f"2026-11-25T10:{n:02d}:00.000+00:00",
        "level": "INFO",
        "logger": "reppy.summary",
        "message": "request …",
        "event": "request.summary",
        "requestId": f"req-r-{n}",
        "status": "SUCCEEDED",
        "intent": "CHAT_RESPONSE",
        "latency_ms": 100.0 * n,
        "cost_usd": 0.001,
        "input_tokens": 10,
        "output_tokens": 5,
        "degraded": [],
        "tokens_lost": 0,
        "nodes": {"route_intent": {"latency_ms": 10.0 * n, "model_calls": 1, "input_tokens": 4, "cost_usd": 0.0004}},
        **fields,
    }


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 50) == 10.0 and percentile(values, 95) == 19.0 and percentile(values, 100) == 20.0
    assert percentile([7.0], 95) == 7.0 and percentile([], 50) is None


def test_the_report_of_a_day_of_summary_lines(tmp_path, capsys):
    lines = [summary_line(n) for n in range(1, 21)]
    lines += [
        summary_line(21, intent="GENERATE_ROUTINE", status="FAILED", code="LLM_RATE_LIMITED", cost_usd=0.01),
        summary_line(22, intent="GENERATE_ROUTINE", degraded=["profile"], tokens_lost=3),
        summary_line(23, intent=None, status="INVALID", code="INVALID_REQUEST", nodes={}, cost_usd=0),
    ]
    log = tmp_path / "worker.log"
    log.write_text(
        "\n".join([json.dumps(line) for line in lines] + ["not json", json.dumps({"message": "other"})]) + "\n"
    )
    assert main(["report", str(log), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    chat = figures["intents"]["CHAT_RESPONSE"]
    assert (chat["requests"], chat["failed"], chat["p50_ms"], chat["p95_ms"]) == (20, 0, 1000.0, 1900.0)
    assert chat["cost_usd"] == 0.02 and chat["cost_per_request_usd"] == 0.001
    generate = figures["intents"]["GENERATE_ROUTINE"]
    assert (generate["requests"], generate["failed"], generate["cost_usd"]) == (2, 1, 0.011)
    assert figures["nodes"]["route_intent"]["runs"] == 22 and figures["nodes"]["route_intent"]["p95_ms"] == 210.0
    assert figures["failures"] == {"LLM_RATE_LIMITED": {"GENERATE_ROUTINE": 1}}  # INVALID is bad input, not a failure
    assert figures["degraded"] == {"profile": 1} and figures["tokens_lost"] == 3
    assert figures["all"]["requests"] == 23 and figures["skipped_lines"] == 2
    assert figures["invalid"] == 1 and figures["intents"]["(not routed)"]["statuses"] == {"INVALID": 1}
    assert (figures["from"], figures["to"]) == (lines[0]["time"], lines[-1]["time"])

    assert main(["report", str(log)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("23 requests from 2026-11-25T10:01:00.000+00:00 to 2026-11-25T10:23:00.000+00:00")
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}
    assert rows["CHAT_RESPONSE"][1:5] == ["20", "0", "1000", "1900"]
    assert rows["route_intent"][1:5] == ["22", "0", "110", "210"]
    assert rows["LLM_RATE_LIMITED"][1] == "1"


def test_oci_logging_entries_are_unwrapped(tmp_path, capsys):
    """As OCI Logging keeps a Function's lines: the worker's line under data.message, as JSON text
    (plain-text line format) or as an object (JSON line format); a console download is one array."""
    a, b, c = summary_line(1), summary_line(2), summary_line(3, intent="UPDATE_ROUTINE")
    entries = [
        {"datetime": 1, "logContent": {"data": {"message": json.dumps(a), "src": "STDERR"}, "type": "functioninvoke"}},
        {"data": {"message": b, "src": "STDERR"}, "specversion": "1.0"},
        {"data": {"message": "Received function invocation request"}},
    ]
    (tmp_path / "download.json").write_text(json.dumps([*entries, {"data": {"message": c}}]))
    (tmp_path / "lines.log").write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    assert main(["report", str(tmp_path / "download.json"), str(tmp_path / "lines.log"), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (
        figures["intents"]["CHAT_RESPONSE"]["requests"] == 4 and figures["intents"]["UPDATE_ROUTINE"]["requests"] == 1
    )
    assert figures["skipped_lines"] == 2


async def test_the_report_reads_the_workers_own_json_logs(json_log, settings, llm, vm, memory, tmp_path, capsys):
    events = CollectingEmitter()

    def deps(vm_api):
        return build_dependencies(settings, llm=llm, vm=vm_api, memory=memory, tokens=events, results=events)

    await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-rep-1"), deps(vm))
    await handle(request("새 4주 근비대 프로그램 만들어줘", request_id="req-rep-2", user_id=OTHER_USER), deps(vm))
    await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-rep-3"), deps(DownVM(vm, {"claim"})))
    log = tmp_path / "worker.log"
    log.write_text("\n".join(json.dumps(line) for line in json_log()) + "\n")

    assert main(["report", str(log), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["requests"] == 3 and figures["skipped_lines"] > 0
    assert figures["intents"]["CHAT_RESPONSE"]["requests"] == 1
    assert figures["intents"]["GENERATE_ROUTINE"]["requests"] == 1
    assert figures["failures"] == {"VM_UNAVAILABLE": {"(not routed)": 1}}
    assert {"route_intent", "prefetch_context", "generate_routine", "respond_chat"} <= set(figures["nodes"])

    # One user's requests: the report hashes the id with the worker's key.
    assert user_hash(DEMO_USER, HASH_KEY.encode()) != user_hash(OTHER_USER, HASH_KEY.encode())
    import os

    os.environ["LOG_USER_HASH_KEY"] = HASH_KEY
    try:
        assert main(["report", str(log), "--json", "--user", OTHER_USER]) == 0
    finally:
        del os.environ["LOG_USER_HASH_KEY"]
    mine = json.loads(capsys.readouterr().out)
    assert mine["requests"] == 1 and set(mine["intents"]) == {"GENERATE_ROUTINE"}


def test_nothing_to_report_and_unreadable_files(tmp_path, capsys):
    empty = tmp_path / "empty.log"
    empty.write_text("plain text line\n")
    assert main(["report", str(empty)]) == 1
    assert capsys.readouterr().out.startswith("0 requests")
    assert main(["report", str(tmp_path / "missing.log")]) == 2
    assert "cannot read" in capsys.readouterr().err
