"""JSON logs keyed by request, and the one summary line each request leaves (app/logs.py,
app/telemetry.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import warnings

import pytest

from adapters.emit.oci_queue import ResultNotPublished
from app.dependencies import build_dependencies
from app.logs import log_format
from app.runner import handle
from core.errors import VMUnavailable
from core.settings import Settings
from tests.conftest import DEMO_USER, REPO, request, stable
from tests.emitters import CollectingEmitter
from tests.log_fixtures import HASH_KEY


class ChattyVM:
    """The embedded VM API, plus what client libraries do: log a warning, raise a Python warning."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    async def get_profile(self, user_id):
        logging.getLogger("httpx").warning("HTTP Request: GET /profile retried")
        warnings.warn("a client library deprecation", DeprecationWarning, stacklevel=1)
        return await self._inner.get_profile(user_id)


class ChattyModel:
    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    async def plan_chat(self, conversation):
        logging.getLogger("google_genai.models").warning("AFC is enabled with max remote calls: 10.")
        return await self._inner.plan_chat(conversation)


async def test_every_line_a_request_causes_is_json_with_its_request_id(json_log, settings, llm, vm, memory):
    events = CollectingEmitter()
    deps = build_dependencies(
        settings, llm=ChattyModel(llm), vm=ChattyVM(vm), memory=memory, tokens=events, results=events
    )
    logging.getLogger("reppy.test").info("before any request")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-json-1"), deps)
        await handle(request("새 4주 근비대 프로그램 만들어줘", request_id="req-json-2"), deps)
    lines = json_log()

    start = next(i for i, line in enumerate(lines) if line["message"] == "before any request")
    assert "requestId" not in lines[start]
    during = lines[start + 1 :]
    assert during and {line["requestId"] for line in during} == {"req-json-1", "req-json-2"}
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line)
        assert line["time"].endswith("+00:00")
    library = [line for line in during if line["logger"] == "httpx"]
    python_warnings = [line for line in during if line["logger"] == "py.warnings"]
    assert [(line["requestId"], line["node"]) for line in library] == [
        ("req-json-1", "prefetch_context"),
        ("req-json-2", "prefetch_context"),
    ]
    assert [line["requestId"] for line in python_warnings] == ["req-json-1", "req-json-2"]
    # The user only as a keyed hash, the same on every line of the request.
    expected = hmac.new(HASH_KEY.encode(), DEMO_USER.encode(), hashlib.sha256).hexdigest()[:16]
    assert {line["userHash"] for line in during} == {expected}
    assert DEMO_USER not in json.dumps(lines)
    # Once routed, the request's lines carry the intent.
    summaries = [line for line in during if line.get("event") == "request.summary"]
    assert [(s["requestId"], s["intent"], s["status"]) for s in summaries] == [
        ("req-json-1", "CHAT_RESPONSE", "SUCCEEDED"),
        ("req-json-2", "GENERATE_ROUTINE", "SUCCEEDED"),
    ]
    # The planner runs beside the router on every request, so its lines carry the node (the intent
    # only once the router has decided, whichever finishes first).
    planning = [line for line in during if line["logger"] == "google_genai.models"]
    assert [(line["requestId"], line["node"]) for line in planning] == [
        ("req-json-1", "plan_chat"),
        ("req-json-2", "plan_chat"),
    ]


def summaries(caplog) -> list[dict]:
    return [r.fields for r in caplog.records if r.name == "reppy.summary"]


async def test_the_summary_line_of_a_chat_request(caplog, settings, llm, vm, memory, snapshot):
    caplog.set_level(logging.INFO)
    events = CollectingEmitter()
    deps = build_dependencies(settings, llm=llm, vm=vm, memory=memory, tokens=events, results=events)
    await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-summary-chat"), deps)
    (summary,) = summaries(caplog)
    result = events.results[0]
    # The figures agree with the result the app received.
    assert summary["cost_usd"] == result.usage["cost_usd"]
    assert summary["input_tokens"] == result.usage["input_tokens"]
    assert summary["tokens_streamed"] == len(events.tokens) == result.meta.tokens_streamed
    assert set(summary["nodes"]) == {
        "route_intent",
        "prefetch_context",
        "plan_chat",
        "gather_context",
        "respond_chat",
        "remember",
    }
    assert all(node["latency_ms"] >= 0 for node in summary["nodes"].values())
    assert summary["latency_ms"] >= max(node["latency_ms"] for node in summary["nodes"].values())
    assert stable({**summary, "userHash": bool(summary["userHash"])}) == snapshot


class DownVM:
    def __init__(self, inner, down: set[str]):
        self._inner, self._down = inner, down

    def __getattr__(self, name):
        if name in self._down:

            async def fail(*args, **kwargs):
                raise VMUnavailable("VM API unavailable (503)")

            return fail
        return getattr(self._inner, name)


async def test_summaries_of_failed_degraded_and_invalid_requests(caplog, settings, llm, vm, memory):
    caplog.set_level(logging.INFO)
    events = CollectingEmitter()

    def deps_with(vm_api):
        return build_dependencies(settings, llm=llm, vm=vm_api, memory=memory, tokens=events, results=events)

    await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-s-claim"), deps_with(DownVM(vm, {"claim"})))
    await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-s-degraded"), deps_with(DownVM(vm, {"get_profile"})))
    await handle({**request("x", request_id="req-s-invalid"), "stream": "yes"}, deps_with(vm))
    await handle(b"not json", deps_with(vm))
    await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-s-degraded"), deps_with(vm))  # claimed already
    got = {(s["requestId"], s["status"], s["code"], tuple(s["degraded"])) for s in summaries(caplog)}
    assert got == {
        ("req-s-claim", "FAILED", "VM_UNAVAILABLE", ()),
        ("req-s-degraded", "SUCCEEDED", None, ("profile",)),
        ("req-s-invalid", "INVALID", "INVALID_REQUEST", ()),
        (None, "INVALID", "INVALID_REQUEST", ()),
        ("req-s-degraded", "SKIPPED", None, ()),
    }


class Unpublishable(CollectingEmitter):
    async def emit_result(self, event):  # as QueueResultEmitter fails: the result rides on the error
        error = ResultNotPublished(f"the result of {event.requestId} could not be published (ServiceError 503)")
        error.event = event
        raise error


async def test_a_result_that_could_not_be_published_is_summarised_as_such(caplog, settings, llm, vm, memory):
    caplog.set_level(logging.INFO)
    events = Unpublishable()
    deps = build_dependencies(settings, llm=llm, vm=vm, memory=memory, tokens=events, results=events)
    with pytest.raises(ResultNotPublished):
        await handle(request("오늘 운동 뭐 해야 돼?", request_id="req-s-unpublished"), deps)
    (summary,) = summaries(caplog)
    assert (summary["status"], summary["code"], summary["intent"]) == (
        "UNPUBLISHED",
        "RESULT_NOT_PUBLISHED",
        "CHAT_RESPONSE",
    )
    assert summary["input_tokens"] > 0 and summary["nodes"]


def test_the_format_is_text_on_the_command_line_and_json_in_a_function(monkeypatch):
    for name in ("FN_FN_ID", "FN_LISTENER"):
        monkeypatch.delenv(name, raising=False)
    assert log_format(Settings(_env_file=None)) == "text"
    assert log_format(Settings(_env_file=None, LOG_FORMAT="json")) == "json"
    monkeypatch.setenv("FN_FN_ID", "ocid1.fnfunc.oc1.iad.aaaaexample")
    assert log_format(Settings(_env_file=None)) == "json"
    assert log_format(Settings(_env_file=None, LOG_FORMAT="text")) == "text"


def test_the_cli_writes_json_logs_when_asked(tmp_path):
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOG_", "FN_"))}
    env.update({"LOG_FORMAT": "json", "QDRANT_PATH": ":memory:", "PYTHONPATH": str(REPO)})
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "--example"], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stderr.decode().splitlines()]
    summary = [line for line in lines if line.get("event") == "request.summary"]
    assert len(summary) == 1 and summary[0]["requestId"] == "req-12345" and summary[0]["status"] == "SUCCEEDED"


async def test_the_summary_counts_the_memory_write_that_ends_after_the_result(caplog, settings, llm, vm, memory):
    caplog.set_level(logging.INFO)
    events = CollectingEmitter()
    deps = build_dependencies(settings, llm=llm, vm=vm, memory=memory, tokens=events, results=events)
    # Off the chat route remember asks the model itself, after the result has left.
    await handle(request("허리 디스크가 있어요. 새 4주 근비대 프로그램 만들어줘", request_id="req-s-after"), deps)
    (summary,) = summaries(caplog)
    [result] = events.results
    assert "remember" not in [c["node"] for c in result.usage["calls"]]
    assert summary["model_calls"] == len(result.usage["calls"]) + 1 and summary["nodes"]["remember"]["model_calls"] == 1
    assert summary["input_tokens"] == result.usage["input_tokens"] + summary["nodes"]["remember"]["input_tokens"]
    assert summary["remembered"]["saved"] == 1  # the back: one new fact
