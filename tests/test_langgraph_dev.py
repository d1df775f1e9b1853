"""The same graph under `langgraph dev`: a real server subprocess on a free 127.0.0.1 port, driven by
the real langgraph_sdk client, offline and without any LangSmith key."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, request
from tests.processes import clean_env, stop

pytestmark = pytest.mark.integration

START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    log_path = tmp_path_factory.mktemp("langgraph-dev") / "server.log"
    env = clean_env(drop=("LANGSMITH_", "LANGCHAIN_"), QDRANT_PATH=":memory:", LOG_LEVEL="WARNING")
    langgraph = Path(sys.executable).parent / "langgraph"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(langgraph), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"langgraph dev exited early:\n{log_path.read_text(errors='replace')[-3000:]}"
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail(f"langgraph dev did not answer within {START_TIMEOUT_S}s")
        # It silently moves to another port when ours is taken: confirm it serves where we asked.
        assert re.search(rf"API: \S*http://127\.0\.0\.1:{port}\b", _plain(log_path.read_text(errors="replace")))
        yield url, log_path
    finally:
        stop(proc, grace_s=15, group=True)


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


async def _stream(url: str, payload: dict, **kwargs):
    from langgraph_sdk import get_client

    client = get_client(url=url)
    parts = []
    async for part in client.runs.stream(
        None, "reppy_worker", input=payload, stream_mode=["updates", "messages-tuple", "values"], **kwargs
    ):
        parts.append(part)
    return parts


def test_example_request_streams_answer_tokens_from_respond_chat_only(server):
    url, log_path = server
    parts = asyncio.run(_stream(url, request("오늘 운동 뭐 해야 돼?", request_id="req-12345")))
    errors = [p.data for p in parts if p.event == "error"]
    assert not errors, errors

    messages = [p.data for p in parts if p.event == "messages"]
    assert len(messages) >= 2
    nodes = {metadata["langgraph_node"] for _, metadata in messages}
    assert nodes == {"respond_chat"}  # nothing from route_intent or plan_chat

    updated = [node for p in parts if p.event == "updates" for node in p.data]
    # The planner and the context prefetch run beside the router (in any order), the memory write
    # beside the answer.
    assert set(updated[:3]) == {"route_intent", "plan_chat", "prefetch_context"}
    assert updated[3] == "gather_context"
    assert set(updated[4:]) == {"respond_chat", "remember"}

    final = [p.data for p in parts if p.event == "values"][-1]
    assert final["route"]["intent"] == "CHAT_RESPONSE"
    assert final["plan"]["action"] == "GET_ACTIVE_ROUTINES"
    assert "Push Day A" in final["final"]["reply"]
    assert "".join(chunk["content"] for chunk, _ in messages) == final["final"]["reply"]
    assert "BlockingError" not in log_path.read_text(errors="replace")


def test_run_context_reaches_the_nodes(server):
    url, _ = server
    # A confidence bar no router can clear turns the same question into a clarification.
    parts = asyncio.run(
        _stream(url, request("오늘 운동 뭐 해야 돼?", request_id="req-ctx"), context={"min_confidence": 1.0})
    )
    final = [p.data for p in parts if p.event == "values"][-1]
    assert final["route"]["intent"] == "CLARIFY" and final["route"]["proposed"] == "CHAT_RESPONSE"
    assert final["status"] == "CLARIFY" and final["final"]["question"]
