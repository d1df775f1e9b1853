"""`GOOGLE_API_KEY=… GEMINI_BASE_URL=… reppy-worker --example` as a subprocess against the Gemini
stand-in; configuration mistakes; the stand-in's own latency knob."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from adapters.llm.gemini import GeminiConfig
from app.dependencies import build_dependencies
from core.errors import ConfigError
from core.settings import Settings
from standins.gemini import GeminiStandIn, Latency, Reply, canned_responder
from tests.conftest import REPO
from tests.gemini_support import KEY, plan, route

pytestmark = pytest.mark.integration


def run_cli(*args: str, env: dict[str, str]):
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOOGLE_", "GEMINI_", "VM_INTERNAL", "QDRANT", "OCI_", "LLM_"))
    }
    environment.update({"QDRANT_PATH": ":memory:", **env})
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, env=environment, cwd=REPO, timeout=120
    )


def test_cli_example_runs_on_gemini(gemini):
    reply = "Alex님, 오늘은 Push Day A 차례예요! 바벨 벤치프레스 4세트 × 8회로 시작하세요."
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer(reply, thoughts_tokens=120))

    done = run_cli("--example", env={"GOOGLE_API_KEY": KEY, "GEMINI_BASE_URL": gemini.base_url})

    assert done.returncode == 0, done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]
    tokens, result = lines[:-1], lines[-1]
    assert [t["seq"] for t in tokens] == list(range(1, len(tokens) + 1)) and len(tokens) > 5
    assert "".join(t["delta"] for t in tokens) == reply == result["final"]["reply"]
    assert result["status"] == "SUCCEEDED" and result["meta"]["provider"] == "gemini"
    # The new defaults: 3.5 Flash-Lite routes and plans, 3.8 Flash answers.
    assert [c["model"] for c in result["usage"]["calls"]] == ["gemini-3.5-flash-lite"] * 2 + ["gemini-3.8-flash"]
    assert [r.model for r in gemini.requests] == ["gemini-3.5-flash-lite"] * 2 + ["gemini-3.8-flash"]
    assert result["usage"]["thinking_tokens"] == 120 and result["usage"]["cost_usd"] > 0
    assert result["usage"]["cached_input_tokens"] == 0
    assert [r.method for r in gemini.requests] == ["generateContent", "generateContent", "streamGenerateContent"]
    assert KEY.encode() not in done.stdout + done.stderr


def test_cli_reports_a_gemini_failure(gemini):
    gemini.script(Reply.blocked("SAFETY"))
    done = run_cli("--example", env={"GOOGLE_API_KEY": KEY, "GEMINI_BASE_URL": gemini.base_url})
    assert done.returncode == 1
    result = json.loads(done.stdout.decode().splitlines()[-1])
    assert result["error"]["code"] == "LLM_SAFETY_BLOCKED"
    assert b"Traceback" not in done.stderr and KEY.encode() not in done.stdout + done.stderr


def test_a_thinking_setting_the_model_refuses_stops_the_cli_at_start(gemini):
    """2.5 Pro cannot turn thinking off: a budget of 0 would be a 400 on every request. It is a
    configuration error at start-up instead, before any model call."""
    env = {
        "GOOGLE_API_KEY": KEY,
        "GEMINI_BASE_URL": gemini.base_url,
        "GEMINI_MODEL_MAIN": "gemini-2.5-pro",
        "GEMINI_THINKING_BUDGET_CHAT": "0",
    }
    done = run_cli("--example", env=env)
    assert done.returncode == 2 and done.stdout == b""
    assert b"GEMINI_THINKING_BUDGET_CHAT=0 is not valid for gemini-2.5-pro" in done.stderr
    assert b"cannot turn thinking off" in done.stderr and b"Traceback" not in done.stderr
    assert gemini.requests == []  # no model call was made


def test_cli_without_a_key_is_a_configuration_error():
    done = run_cli("--example", env={"LLM_PROVIDER": "gemini"})
    assert done.returncode == 2 and b"GOOGLE_API_KEY" in done.stderr and done.stdout == b""


@pytest.mark.parametrize(
    "env, problem",
    [
        ({"LLM_PROVIDER": "gemini"}, "needs GOOGLE_API_KEY"),
        ({"GOOGLE_API_KEY": KEY, "GEMINI_BASE_URL": "127.0.0.1:8765"}, r"GEMINI_BASE_URL must be an http\(s\) URL"),
    ],
)
def test_provider_configuration_errors(env, problem, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=problem):
        build_dependencies(Settings(_env_file=None, QDRANT_PATH=":memory:"), vm=object(), memory=object())


def test_thinking_budget_must_leave_room_to_answer():
    with pytest.raises(ValueError, match="GEMINI_THINKING_BUDGET_GENERATE=9000 must be below the output cap"):
        Settings(_env_file=None, GEMINI_THINKING_BUDGET_GENERATE=9000, GEMINI_MAX_OUTPUT_TOKENS_MAIN=8192)


def test_settings_reach_the_provider_config(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    monkeypatch.setenv("GEMINI_THINKING_LEVEL_CHAT", "medium")
    monkeypatch.setenv("GEMINI_MAX_RETRIES", "4")
    config = GeminiConfig.from_settings(Settings(_env_file=None))
    assert config.base_url is None  # Google's own endpoint unless told otherwise
    # 3.5 Flash-Lite routes with minimal thinking; 3.8 Flash has no "minimal", so its lowest is low.
    assert config.thinking == {
        "route_intent": {"thinking_level": "minimal"},
        "plan_chat": {"thinking_level": "minimal"},
        "remember": {"thinking_level": "minimal"},
        "respond_chat": {"thinking_level": "medium"},
        "generate_routine": {"thinking_level": "medium"},
        "update_routine": {"thinking_level": "low"},
    }
    assert set(config.temperatures.values()) == {None}  # Gemini 3: the model's default 1.0
    assert config.max_retries == 4 and KEY not in repr(config)


def test_standin_latency_delays_the_first_token():
    """The benchmark knob: time to first token is at least what was configured."""
    import asyncio

    from langchain_google_genai import ChatGoogleGenerativeAI

    async def first_token_after() -> float:
        model = ChatGoogleGenerativeAI(
            model="gemini-3.8-flash", google_api_key=KEY, base_url=standin.base_url, max_retries=1
        )
        started = time.monotonic()
        try:
            async for chunk in model.astream("오늘 운동 뭐 해야 돼?"):
                if chunk.text:
                    return time.monotonic() - started
        finally:
            await model.aclose()
        raise AssertionError("no token arrived")

    with GeminiStandIn(
        api_key=KEY, latency=Latency(ttft_s=0.3, tokens_per_s=1000), responder=canned_responder
    ) as standin:
        assert asyncio.run(first_token_after()) >= 0.3
        assert standin.requests[0].method == "streamGenerateContent"
