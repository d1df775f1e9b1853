"""The result's `usage`: every model call with its estimated cost, and the request's totals.

Costs are estimates from the price table in the settings (LLM_PRICES, USD per 1M tokens). Gemini
bills thinking as output, and `output_tokens` already includes `thinking_tokens`, so a call costs
input × input price + output × output price."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from core.settings import ModelPrice

log = logging.getLogger("reppy.usage")

TOKEN_KEYS = ("input_tokens", "output_tokens", "thinking_tokens")
_unpriced_warned: set[str] = set()


def price_for(model: str, prices: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """The price of `model`: an exact key, else the longest key it extends with a version suffix
    ("gemini-2.5-pro-001" → "gemini-2.5-pro")."""
    name = model.removeprefix("models/")
    if name in prices:
        return prices[name]
    matches = [key for key in prices if name.startswith(key + "-")]
    return prices[max(matches, key=len)] if matches else None


def call_cost(call: Mapping[str, Any], prices: Mapping[str, ModelPrice]) -> float | None:
    price = price_for(str(call.get("model", "")), prices)
    if price is None:
        return None
    return (call.get("input_tokens", 0) * price.input + call.get("output_tokens", 0) * price.output) / 1_000_000


def summarize_usage(calls: Iterable[Mapping[str, Any]], prices: Mapping[str, ModelPrice]) -> dict[str, Any]:
    """{calls: [... with cost_usd], input_tokens, output_tokens, thinking_tokens, cost_usd}. A call
    whose model has no price gets cost_usd None and is left out of the total (logged once)."""
    priced: list[dict[str, Any]] = []
    total = 0.0
    for call in calls:
        cost = call_cost(call, prices)
        if cost is None:
            model = str(call.get("model"))
            if model not in _unpriced_warned:
                _unpriced_warned.add(model)
                log.warning("no price for model %s in LLM_PRICES: its calls are not in cost_usd", model)
        else:
            total += cost
        priced.append({**call, "cost_usd": None if cost is None else round(cost, 8)})
    totals = {key: sum(c.get(key, 0) for c in priced) for key in TOKEN_KEYS}
    return {"calls": priced, **totals, "cost_usd": round(total, 8)}
