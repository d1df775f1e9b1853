"""The result's `usage`: every model call with its estimated cost, and the request's totals.

Costs are estimates from the price table in the settings (LLM_PRICES, USD per 1M tokens; defaults
from the model registry, core/gemini_models.py). They follow Gemini's bill: `input_tokens` is the
whole prompt and includes `cached_input_tokens` (Gemini's promptTokenCount includes
cachedContentTokenCount), which are billed at the cached rate; `output_tokens` already includes
`thinking_tokens`, billed as output; a prompt above a model's long-context threshold is billed at
its long-context rates; a price that changes on a set day is taken for the day of the call."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from core.settings import ModelPrice

log = logging.getLogger("reppy.usage")

TOKEN_KEYS = ("input_tokens", "output_tokens", "thinking_tokens", "cached_input_tokens")
_unpriced_warned: set[str] = set()


def price_for(model: str, prices: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """The price of `model`: an exact key, else the longest key it extends with a version suffix
    ("gemini-2.5-pro-001" → "gemini-2.5-pro")."""
    name = model.removeprefix("models/")
    if name in prices:
        return prices[name]
    matches = [key for key in prices if name.startswith(key + "-")]
    return prices[max(matches, key=len)] if matches else None


def call_cost(call: Mapping[str, Any], prices: Mapping[str, ModelPrice], day: date | None = None) -> float | None:
    price = price_for(str(call.get("model", "")), prices)
    if price is None:
        return None
    prompt = call.get("input_tokens", 0)
    cached = min(call.get("cached_input_tokens", 0), prompt)
    input_rate, cached_rate, output_rate = price.on(day or date.today()).rates(prompt)
    return ((prompt - cached) * input_rate + cached * cached_rate + call.get("output_tokens", 0) * output_rate) / 1e6


def summarize_usage(
    calls: Iterable[Mapping[str, Any]], prices: Mapping[str, ModelPrice], day: date | None = None
) -> dict[str, Any]:
    """{calls: [... with cost_usd], input_tokens, output_tokens, thinking_tokens, cached_input_tokens,
    cost_usd}. A call whose model has no price gets cost_usd None and is left out of the total
    (logged once)."""
    priced: list[dict[str, Any]] = []
    total = 0.0
    for call in calls:
        cost = call_cost(call, prices, day)
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
