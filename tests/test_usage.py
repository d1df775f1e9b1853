"""The cost table: which price a model name gets, and how calls add up."""

from __future__ import annotations

from datetime import date

import pytest

from core.settings import ModelPrice, Settings
from core.usage import price_for, summarize_usage

PRICES = Settings(_env_file=None).LLM_PRICES


@pytest.mark.parametrize(
    "model, expected",
    [
        ("gemini-2.5-pro", (1.25, 10.0)),
        ("models/gemini-2.5-pro", (1.25, 10.0)),
        ("gemini-2.5-pro-preview-06-05", (1.25, 10.0)),
        ("gemini-2.5-flash", (0.30, 2.50)),
        ("gemini-2.5-flash-lite", (0.10, 0.40)),  # not flash's price, though it starts like it
        ("gemini-2.5-flash-lite-001", (0.10, 0.40)),
        ("gemini-3.5-flash-lite", (0.30, 2.50)),
        ("gemini-3.1-pro-preview", (2.0, 12.0)),
        ("offline-template", (0.0, 0.0)),
    ],
)
def test_price_for(model, expected):
    price = price_for(model, PRICES)
    assert (price.input, price.output) == expected


def test_unknown_model_has_no_price():
    assert price_for("gemini-2.5-professional", PRICES) is None  # a prefix, but not a version suffix
    assert price_for("gpt-5", PRICES) is None


def test_summary_prices_each_call_and_leaves_unknown_models_out():
    calls = [
        {
            "node": "route_intent",
            "model": "gemini-2.5-flash",
            "input_tokens": 1_000_000,
            "output_tokens": 0,
            "thinking_tokens": 0,
        },
        {
            "node": "respond_chat",
            "model": "gemini-2.5-pro",
            "input_tokens": 0,
            "output_tokens": 2_000_000,
            "thinking_tokens": 500_000,
        },
        {
            "node": "respond_chat",
            "model": "mystery-model",
            "input_tokens": 10,
            "output_tokens": 10,
            "thinking_tokens": 0,
        },
    ]
    usage = summarize_usage(calls, PRICES)
    assert [c["cost_usd"] for c in usage["calls"]] == [0.30, 20.0, None]
    assert usage["cost_usd"] == 20.30
    assert (usage["input_tokens"], usage["output_tokens"], usage["thinking_tokens"]) == (1_000_010, 2_000_010, 500_000)
    assert calls[0].get("cost_usd") is None  # the state's records are not modified


def test_custom_price_table():
    prices = {"my-model": ModelPrice(input=2, output=8)}
    [call] = summarize_usage([{"model": "my-model", "input_tokens": 500, "output_tokens": 250}], prices)["calls"]
    assert call["cost_usd"] == pytest.approx((500 * 2 + 250 * 8) / 1e6)


def call(model: str, prompt: int, output: int = 0, cached: int = 0) -> dict:
    return {"model": model, "input_tokens": prompt, "output_tokens": output, "cached_input_tokens": cached}


def test_cached_input_is_billed_at_the_cached_rate():
    """Gemini's promptTokenCount includes the cached tokens: only the rest is billed as input."""
    day = date(2026, 11, 26)
    [priced] = summarize_usage([call("gemini-3.8-flash", 10_000, 1_000, cached=8_000)], PRICES, day)["calls"]
    assert priced["cost_usd"] == pytest.approx((2_000 * 0.75 + 8_000 * 0.075 + 1_000 * 3.75) / 1e6)
    # No cached rate known (2.5 Flash): the cached part costs what input costs, never nothing.
    [unknown] = summarize_usage([call("gemini-2.5-flash", 10_000, cached=8_000)], PRICES, day)["calls"]
    assert unknown["cost_usd"] == pytest.approx(10_000 * 0.30 / 1e6)


def test_the_long_context_tier_applies_above_200k_prompt_tokens():
    short, long = summarize_usage(
        [call("gemini-3.1-pro-preview", 200_000, 1_000), call("gemini-3.1-pro-preview", 200_001, 1_000)], PRICES
    )["calls"]
    assert short["cost_usd"] == pytest.approx((200_000 * 2.0 + 1_000 * 12.0) / 1e6)
    assert long["cost_usd"] == pytest.approx((200_001 * 4.0 + 1_000 * 18.0) / 1e6)
    [pro] = summarize_usage([call("gemini-2.5-pro", 300_000, 10_000)], PRICES)["calls"]
    assert pro["cost_usd"] == pytest.approx((300_000 * 2.50 + 10_000 * 15.0) / 1e6)


def test_a_price_change_applies_from_its_day():
    """3.8 Flash: $0.75 / $3.75 through 2026-12-31, $1.50 / $7.50 from 2027-01-01."""
    calls = [call("gemini-3.8-flash", 1_000_000, 1_000_000)]
    assert summarize_usage(calls, PRICES, date(2026, 12, 31))["cost_usd"] == pytest.approx(0.75 + 3.75)
    assert summarize_usage(calls, PRICES, date(2027, 1, 1))["cost_usd"] == pytest.approx(1.50 + 7.50)


def test_totals_show_cached_tokens_and_keep_the_old_fields():
    usage = summarize_usage([call("gemini-3.8-flash", 1_000, 10, cached=600), call("offline", 50)], PRICES)
    assert usage["cached_input_tokens"] == 600
    assert set(usage) == {
        "calls",
        "input_tokens",
        "output_tokens",
        "thinking_tokens",
        "cached_input_tokens",
        "cost_usd",
    }
