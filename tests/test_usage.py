"""The cost table: which price a model name gets, and how calls add up."""

from __future__ import annotations

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
