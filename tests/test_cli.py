"""`reppy-worker` as a newcomer runs it: a subprocess, events on stdout, logs on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.processes import clean_env, stop

pytestmark = pytest.mark.integration


def run_cli(*args: str, stdin: bytes | None = None, env: dict | None = None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        env=clean_env(**{"QDRANT_PATH": ":memory:", **(env or {})}),
        cwd=cwd or REPO,
        timeout=120,
    )


def events(stdout: bytes) -> list[dict]:
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


def test_example_streams_tokens_then_result(tmp_path):
    done = run_cli("--example", cwd=tmp_path)  # from any directory
    assert done.returncode == 0, done.stderr.decode()
    lines = events(done.stdout)
    tokens, result = lines[:-1], lines[-1]
    assert len(tokens) >= 2 and all(set(t) == {"requestId", "seq", "delta", "ts"} for t in tokens)
    assert [t["seq"] for t in tokens] == list(range(1, len(tokens) + 1))
    assert result["status"] == "SUCCEEDED" and result["meta"]["intent"] == "CHAT_RESPONSE"
    assert "".join(t["delta"] for t in tokens) == result["final"]["reply"]
    assert "Push Day A" in result["final"]["reply"]


@pytest.mark.parametrize(
    "args, stdin",
    [
        (("-j", "{not json"), None),
        (("-j", json.dumps({"requestId": "r1", "conversation_history": [{"role": "user", "content": "hi"}]})), None),
        ((), b'{"requestId": 5}'),
        (("-f", "/nonexistent/request.json"), None),
    ],
)
def test_unusable_input_exits_2_without_traceback(args, stdin):
    done = run_cli(*args, stdin=stdin)
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr + done.stdout


def test_invalid_request_with_id_prints_failed_result():
    body = {"requestId": "req-empty", "userId": "user-67890", "conversation_history": []}
    done = run_cli("-j", json.dumps(body))
    assert done.returncode == 2
    [result] = events(done.stdout)
    assert result["requestId"] == "req-empty" and result["status"] == "FAILED"
    assert result["error"]["code"] == "INVALID_REQUEST"


def test_the_logged_reason_says_invalid_request_once():
    body = {"requestId": "r-2", "userId": "user-67890", "conversation_history": []}
    log = run_cli("-j", json.dumps(body)).stderr.decode()
    assert "request r-2: invalid request: conversation_history" in log
    assert log.count("invalid request") == 1


def test_the_shipped_example_request_runs():
    done = run_cli("-f", "examples/request.json")
    assert done.returncode == 0, done.stderr.decode()
    result = events(done.stdout)[-1]
    assert (result["requestId"], result["status"]) == ("req-example-1", "SUCCEEDED")
    assert events(run_cli(stdin=(REPO / "examples" / "request.json").read_bytes()).stdout)[-1]["status"] == "SUCCEEDED"


def test_help_lists_every_way_to_run_it():
    done = run_cli("--help")
    assert done.returncode == 0
    usage = done.stdout.decode()
    for shown in ("--example", "-f examples/request.json", "stdin", "vm-stub", "eval routing", "bench", "Exit codes"):
        assert shown in usage, shown


def test_failed_request_exits_1():
    body = {
        "requestId": "req-f",
        "userId": "nobody",
        "conversation_history": [{"role": "user", "content": "스쿼트 세트 수를 5세트로 늘려줘"}],
    }
    done = run_cli("-j", json.dumps(body))
    assert done.returncode == 1
    assert events(done.stdout)[-1]["error"]["code"] == "CONTEXT_MISSING"


def test_vm_stub_serves_the_cli_and_claims_once():
    token = "cli-stub-token"
    stub = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "vm-stub", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "VM_INTERNAL_TOKEN": token},
        cwd=REPO,
    )
    try:
        base_url = json.loads(stub.stdout.readline())["vm_stub"]
        env = {"VM_INTERNAL_TOKEN": token}
        over_http = run_cli("--vm-url", base_url, "--example", env=env)
        assert over_http.returncode == 0, over_http.stderr.decode()
        embedded = run_cli("--example")
        assert events(over_http.stdout)[-1]["final"] == events(embedded.stdout)[-1]["final"]
        again = run_cli("--vm-url", base_url, "--example", env=env)
        assert again.returncode == 0 and again.stdout == b""  # claimed already: skipped, nothing emitted
        assert b"already claimed" in again.stderr
        assert token.encode() not in over_http.stderr + again.stderr
    finally:
        stop(stub)


def test_vm_stub_requires_a_token():
    done = run_cli("vm-stub", "--port", "0")
    assert done.returncode == 2 and b"VM_INTERNAL_TOKEN" in done.stderr
