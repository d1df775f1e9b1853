"""The Gemini rules the worker must follow, met on the wire: the stand-in refuses what the real API
refuses (with the real API's messages where one was recorded), recorded response bodies replay
through the real langchain-google-genai client, and the start-up check keeps every refusal from
ever being sent."""

from __future__ import annotations

import logging

import pytest

from adapters.llm.gemini.failures import _api_error, classify, retry_delay_s
from app.dependencies import build_dependencies
from app.runner import handle
from core.errors import ConfigError, LLMRateLimited, LLMRejected
from core.settings import Settings
from standins.gemini import ERRORS, RECORDED_CHUNK_TOKENS, Reply
from tests.conftest import request
from tests.gemini_support import (
    CHAT_MESSAGE,
    GENERATE_MESSAGE,
    KEY,
    REPO,
    gemini_settings,
    path_calls,
    plan,
    route,
)

pytestmark = pytest.mark.integration


def only_result(events):
    assert len(events.results) == 1
    return events.results[0]


# --- what the stand-in refuses, through the real client ----------------------------------------


@pytest.mark.parametrize(
    "model, params, status, message",
    [
        ("gemini-9.9-flash", {}, 404, "models/gemini-9.9-flash is not found for API version v1"),
        ("gemini-2.5-pro", {"thinking_budget": 0}, 400, ERRORS["budget_zero"]),
        ("gemini-2.5-flash", {"thinking_budget": 30000}, 400, "The thinking budget (30000) is invalid."),
        ("gemini-2.5-flash", {"thinking_level": "low"}, 400, ERRORS["level_unsupported"]),
        ("gemini-3.8-flash", {"thinking_level": "minimal"}, 400, "Thinking level MINIMAL is not supported"),
        ("gemini-3.8-flash", {"thinking_budget": 1024}, 400, ERRORS["budget_on_levels"]),
        ("gemini-3.8-flash", {"max_output_tokens": 70000}, 400, "The maxOutputTokens value 70000 is out of range"),
        ("gemini-2.5-flash", {"max_output_tokens": 65536}, 400, "this model allows at most 65535"),
    ],
    ids=[
        "unknown-model",
        "pro-budget-0",
        "flash-budget-too-high",
        "level-on-2.5",
        "level-not-offered",
        "budget-on-3.x",
        "output-cap-3.8",
        "output-cap-2.5",
    ],
)
async def test_the_standin_refuses_what_the_api_refuses(model, params, status, message, gemini):
    from google.genai import errors as genai_errors
    from langchain_google_genai import ChatGoogleGenerativeAI

    client = ChatGoogleGenerativeAI(model=model, google_api_key=KEY, base_url=gemini.base_url, max_retries=1, **params)
    try:
        with pytest.raises(Exception) as raised:
            await client.ainvoke("오늘 운동 뭐 해야 돼?")
    finally:
        await client.aclose()
    api_error = _api_error(raised.value, genai_errors.APIError)
    assert api_error is not None and api_error.code == status
    assert message in api_error.message
    assert api_error.status == ("NOT_FOUND" if status == 404 else "INVALID_ARGUMENT")
    # The provider's reading of it: refused, not retryable, the code and status named.
    error = classify(raised.value, "respond_chat", 10)
    assert isinstance(error, LLMRejected) and not error.retryable and str(status) in error.message
    assert [r.model for r in gemini.requests] == [model]  # refused before any reply was used


async def test_an_unknown_model_fails_the_request_as_rejected(gemini, gemini_deps, events, caplog):
    deps = gemini_deps(GEMINI_MODEL_MAIN="gemini-9.9-flash")
    assert "GEMINI_MODEL_MAIN=gemini-9.9-flash is not in the model registry" in caplog.text
    gemini.script(route("CHAT_RESPONSE"), plan())
    await handle(request(CHAT_MESSAGE), deps)
    result = only_result(events)
    assert result.status == "FAILED" and result.error.code == "LLM_REQUEST_REJECTED"
    assert "404 NOT_FOUND" in result.error.message and not result.error.retryable


async def test_a_model_the_registry_does_not_know_runs_with_its_own_defaults(gemini, gemini_deps, events, caplog):
    """gemini-3.7-flash is served (the stand-in knows it) but not in the registry: it runs, with
    no thinking setting and no temperature of ours, a warning, and no price."""
    caplog.set_level(logging.WARNING)
    deps = gemini_deps(GEMINI_MODEL_MAIN="gemini-3.7-flash")
    assert "GEMINI_MODEL_MAIN=gemini-3.7-flash is not in the model registry" in caplog.text
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("오늘은 Push Day A 차례예요."))
    await handle(request(CHAT_MESSAGE), deps)
    result = only_result(events)
    assert result.status == "SUCCEEDED"
    chat = gemini.requests[-1]
    assert chat.model == "gemini-3.7-flash" and chat.thinking_config == {}
    assert "temperature" not in chat.generation_config
    assert result.usage["calls"][-1]["cost_usd"] is None


# --- 429 as the API sends it ---------------------------------------------------------------------


async def test_a_recorded_429_is_read_for_its_retry_delay(gemini, gemini_deps, events):
    """The recorded body asks for 47s (RetryInfo) beside QuotaFailure and Help details: longer than
    the configured maximum wait, so the request fails at once as retryable, with no second call."""
    gemini.script(Reply.recorded("rate_limited"))
    await handle(request(CHAT_MESSAGE), gemini_deps(GEMINI_RETRY_MAX_DELAY_S=2.0))
    result = only_result(events)
    assert result.status == "FAILED" and result.error.code == "LLM_RATE_LIMITED" and result.error.retryable
    assert "asked to retry after 47s, more than the 2s allowed" in result.error.message
    assert len(path_calls(gemini)) == 1  # the router's, not retried (the planner's runs beside it)


async def test_the_standin_429_carries_quota_details(gemini):
    from langchain_google_genai import ChatGoogleGenerativeAI

    gemini.script(Reply.rate_limited(retry_delay_s=3))
    client = ChatGoogleGenerativeAI(
        model="gemini-3.8-flash", google_api_key=KEY, base_url=gemini.base_url, max_retries=1
    )
    try:
        with pytest.raises(Exception) as raised:
            await client.ainvoke("hi")
    finally:
        await client.aclose()
    assert isinstance(classify(raised.value, "route_intent", 10), LLMRateLimited)
    assert retry_delay_s(raised.value) == 3.0
    from google.genai import errors as genai_errors

    details = _api_error(raised.value, genai_errors.APIError).details["error"]["details"]
    kinds = [d["@type"].rsplit(".", 1)[-1] for d in details]
    assert kinds == ["Help", "QuotaFailure", "RetryInfo"]
    assert details[1]["violations"][0]["quotaMetric"].startswith("generativelanguage.googleapis.com/")


# --- recorded bodies through the real client -----------------------------------------------------


async def test_a_recorded_answer_reports_cached_and_thinking_tokens(gemini, gemini_deps, events):
    """A real gemini-2.5-flash response (promptTokenCount 326 of which cachedContentTokenCount 173,
    candidatesTokenCount 63, thoughtsTokenCount 154) replayed as the streamed answer."""
    deps = gemini_deps(GEMINI_MODEL_MAIN="gemini-2.5-flash")
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.recorded("generate_content_cached_thinking"))
    await handle(request(CHAT_MESSAGE), deps)
    result = only_result(events)
    assert result.status == "SUCCEEDED" and "charming and cute appearance" in result.final["reply"]
    call = result.usage["calls"][-1]
    assert (call["node"], call["model"]) == ("respond_chat", "gemini-2.5-flash")
    assert (call["input_tokens"], call["cached_input_tokens"]) == (326, 173)
    assert (call["output_tokens"], call["thinking_tokens"]) == (63 + 154, 154)
    # No cached rate is known for 2.5 Flash: the cached part is billed at the input rate.
    assert call["cost_usd"] == pytest.approx((326 * 0.30 + 217 * 2.50) / 1e6)
    assert result.usage["cached_input_tokens"] == 173


async def test_a_recorded_refusal_replays_verbatim(gemini, gemini_deps, events):
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.recorded("thinking_budget_zero"))
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = only_result(events)
    assert result.error.code == "LLM_REQUEST_REJECTED" and "400 INVALID_ARGUMENT" in result.error.message


async def test_a_blocked_prompt_still_reports_its_tokens(gemini, gemini_deps, events):
    """A prompt blocked on the non-streaming path was still read and billed: its tokens and cost
    are in the FAILED result."""
    gemini.script(route("GENERATE_ROUTINE"), Reply.blocked("SAFETY", prompt_tokens=2300))
    await handle(request(GENERATE_MESSAGE), gemini_deps())
    result = only_result(events)
    assert result.status == "FAILED" and result.error.code == "LLM_SAFETY_BLOCKED"
    call = result.usage["calls"][-1]
    assert (call["node"], call["input_tokens"], call["output_tokens"]) == ("generate_routine", 2300, 0)
    assert call["cost_usd"] > 0


# --- the start-up check: a refusal is a configuration error, never a 400 per request --------------


@pytest.mark.parametrize(
    "overrides, problem",
    [
        (
            {"GEMINI_MODEL_MAIN": "gemini-2.5-pro", "GEMINI_THINKING_BUDGET_CHAT": 0},
            "GEMINI_THINKING_BUDGET_CHAT=0 is not valid for gemini-2.5-pro: this model cannot turn thinking off",
        ),
        (
            {
                "GEMINI_MODEL_ROUTER": "gemini-2.5-flash",
                "GEMINI_THINKING_BUDGET_ROUTER": 30000,
                "GEMINI_MAX_OUTPUT_TOKENS_ROUTER": 32768,
            },
            "GEMINI_THINKING_BUDGET_ROUTER=30000 is not valid for gemini-2.5-flash",
        ),
        (
            {"GEMINI_THINKING_LEVEL_CHAT": "minimal"},
            "GEMINI_THINKING_LEVEL_CHAT=minimal is not valid for gemini-3.8-flash: minimal is not supported",
        ),
        (
            {"GEMINI_THINKING_BUDGET_GENERATE": 2048},
            "GEMINI_THINKING_BUDGET_GENERATE is for Gemini 2.5 models; gemini-3.8-flash takes GEMINI_THINKING_LEVEL",
        ),
        (
            {"GEMINI_MODEL_ROUTER": "gemini-2.5-flash", "GEMINI_THINKING_LEVEL_ROUTER": "low"},
            "GEMINI_THINKING_LEVEL_ROUTER is for Gemini 3 models; gemini-2.5-flash takes GEMINI_THINKING_BUDGET",
        ),
        (
            {"GEMINI_THINKING_LEVEL_UPDATE": "low", "GEMINI_THINKING_BUDGET_UPDATE": 512},
            "set GEMINI_THINKING_BUDGET_UPDATE or GEMINI_THINKING_LEVEL_UPDATE, not both",
        ),
        (
            {"GEMINI_MODEL_ROUTER": "gemini-2.5-flash", "GEMINI_MAX_OUTPUT_TOKENS_ROUTER": 65536},
            "GEMINI_MAX_OUTPUT_TOKENS_ROUTER=65536 is above gemini-2.5-flash's output limit (65535 tokens)",
        ),
        ({"GEMINI_TEMPERATURE_MAIN": 2.5}, "GEMINI_TEMPERATURE_MAIN=2.5 is outside the range Gemini accepts"),
        (
            {"GEMINI_TEMPERATURE_ROUTER": 0.2},
            "GEMINI_TEMPERATURE_ROUTER=0.2: gemini-3.5-flash-lite ignores a custom temperature",
        ),
    ],
    ids=[
        "pro-budget-0",
        "budget-out-of-range",
        "level-not-offered",
        "budget-on-3.x",
        "level-on-2.5",
        "both-controls",
        "output-cap",
        "temperature-range",
        "fixed-sampling",
    ],
)
def test_settings_the_model_refuses_are_configuration_errors(overrides, problem, gemini):
    with pytest.raises(ConfigError, match="^" + problem.replace("(", r"\(").replace(")", r"\)")):
        build_dependencies(gemini_settings(gemini.base_url, **overrides), vm=object(), memory=object())
    assert gemini.requests == []


def test_the_defaults_pass_the_start_up_check(caplog):
    from adapters.llm.gemini import GeminiConfig

    caplog.set_level(logging.WARNING)
    config = GeminiConfig.from_settings(Settings(_env_file=None, GOOGLE_API_KEY=KEY))
    assert (config.router_model, config.main_model) == ("gemini-3.5-flash-lite", "gemini-3.8-flash")
    assert caplog.text == ""  # GA models, no shutdown announced: nothing to warn about


def test_a_gemini_3_temperature_other_than_1_is_allowed_with_advice(caplog):
    from adapters.llm.gemini import GeminiConfig

    config = GeminiConfig.from_settings(Settings(_env_file=None, GOOGLE_API_KEY=KEY, GEMINI_TEMPERATURE_MAIN=0.4))
    assert config.temperatures["respond_chat"] == 0.4
    assert "Google advises keeping Gemini 3 models at their default 1.0" in caplog.text


# --- streams as the real API chunks them ----------------------------------------------------------


def recorded_stream_events() -> list[dict]:
    return list(Reply.recorded_stream("stream_events").raw_events)


async def test_a_recorded_stream_replays_event_by_event(gemini, gemini_deps, events):
    """A real gemini-2.5-flash stream (an excerpt: five events of ~49 tokens, thinking counted on
    every event): one token event per API event, in order, and the usage of the last event."""
    recorded = recorded_stream_events()
    texts = [e["candidates"][0]["content"]["parts"][0]["text"] for e in recorded]
    deps = gemini_deps(GEMINI_MODEL_MAIN="gemini-2.5-flash")
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.recorded_stream("stream_events"))
    await handle(request(CHAT_MESSAGE), deps)
    result = only_result(events)
    assert result.status == "SUCCEEDED" and result.final["reply"] == "".join(texts)
    assert [t.delta for t in events.tokens] == texts
    call = result.usage["calls"][-1]
    assert (call["node"], call["model"]) == ("respond_chat", "gemini-2.5-flash")
    assert (call["output_tokens"], call["thinking_tokens"]) == (5947 + 2042, 2042)


def test_the_recorded_chunk_size_is_the_recordings():
    """RECORDED_CHUNK_TOKENS (what the bench streams with) is the recording's own mean."""
    text = (REPO / "standins/recorded/gemini/stream_events.sse").read_text(encoding="utf-8")
    line = next(row for row in text.splitlines() if row.startswith(": candidatesTokenCount over the first"))
    counts = [int(n) for n in line.split(":")[-1].split()]
    assert counts[:3] == [e["usageMetadata"]["candidatesTokenCount"] for e in recorded_stream_events()[:3]]
    assert round(counts[-1] / len(counts)) == RECORDED_CHUNK_TOKENS


async def test_the_standin_streams_in_recorded_chunk_sizes(gemini, gemini_deps, events):
    """With chunk_tokens set, a 300-token answer leaves in round(300 / 49) = 6 events of about equal
    size, each carrying the running candidatesTokenCount as the API does."""
    gemini.chunk_tokens = RECORDED_CHUNK_TOKENS
    words = [f"단어{n} " for n in range(150)]
    gemini.script(route("CHAT_RESPONSE"), plan(), Reply.answer("".join(words), output_tokens=300))
    await handle(request(CHAT_MESSAGE), gemini_deps())
    result = only_result(events)
    assert result.status == "SUCCEEDED"
    deltas = [t.delta for t in events.tokens]
    assert "".join(deltas) == "".join(words) and len(deltas) == 6
    assert max(map(len, deltas)) - min(map(len, deltas)) <= len(words[-1]) * 2
    assert result.usage["calls"][-1]["output_tokens"] == 300


# --- one TLS context for every Gemini client -----------------------------------------------------


def test_the_clients_load_the_ca_bundle_once(gemini, monkeypatch):
    """google-genai builds a TLS context per HTTP stack unless given one (six for two clients, each
    loading the CA bundle); the provider gives both clients the same one, and they keep it."""
    import ssl

    import aiohttp  # noqa: F401  (imported first: aiohttp builds its own default contexts at import)
    import langchain_google_genai  # noqa: F401

    from app.dependencies import _model_provider

    made = []
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    provider = _model_provider(gemini_settings(gemini.base_url))
    assert len(made) == 1
    api = provider._models.route.client._api_client
    assert api._async_client_session_request_args["ssl"] is made[0]
    assert provider._models.chat.client is not provider._models.route.client  # one client per model


# --- structured calls bind what with_structured_output binds --------------------------------------


@pytest.mark.parametrize(
    "node, attr, schema", [("route_intent", "route", "RouteDecision"), ("generate_routine", "generate", "Program")]
)
def test_structured_calls_bind_what_langchain_binds(gemini, node, attr, schema):
    """The provider calls the model without with_structured_output's runnable chain (CPU), so its
    request must carry exactly what that chain's model binding carries; a langchain-google-genai
    that binds something else fails here."""
    import core.schemas
    from adapters.llm.gemini.provider import _structured
    from app.dependencies import _model_provider

    provider = _model_provider(gemini_settings(gemini.base_url))
    model, model_schema = getattr(provider._models, attr), getattr(core.schemas, schema)
    chain = model.with_structured_output(model_schema, include_raw=True)
    ours, parser = _structured(model, node, model_schema)
    assert ours.kwargs == chain.first.steps__["raw"].kwargs
    assert "nostream" in ours.config["tags"] and parser.pydantic_object is model_schema
