"""The model registry: what it says per model (snapshot, reviewed when a figure changes) and the
rules the start-up check and the cost estimate read from it."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from core.gemini_models import (
    DEFAULT_MAIN_MODEL,
    DEFAULT_ROUTER_MODEL,
    MODELS,
    READ,
    ThinkingBudget,
    ThinkingLevels,
    lookup,
)


def test_the_registry(snapshot):
    table = {
        name: {
            "stage": model.stage,
            "thinking": {"kind": type(model.thinking).__name__, **asdict(model.thinking)},
            "max_output_tokens": model.max_output_tokens,
            "price": model.price.model_dump(mode="json", exclude_none=True),
            "fixed_sampling": model.fixed_sampling,
            "shutdown": model.shutdown and model.shutdown.isoformat(),
            "replacement": model.replacement,
        }
        for name, model in MODELS.items()
    }
    assert table == snapshot


def test_every_figure_names_its_source_and_date():
    for model in MODELS.values():
        assert READ in model.sources and "http" in model.sources, model.id


def test_the_defaults_are_generally_available_and_not_retiring():
    for name in (DEFAULT_ROUTER_MODEL, DEFAULT_MAIN_MODEL):
        model = MODELS[name]
        assert model.stage == "GA" and model.shutdown is None and model.uses_levels, name
    # The router is the cheaper of the two.
    assert MODELS[DEFAULT_ROUTER_MODEL].price.output < MODELS[DEFAULT_MAIN_MODEL].price.output


def test_the_25_models_retire_on_1_december_2026():
    assert {name for name, m in MODELS.items() if m.shutdown == date(2026, 12, 1)} == {
        "gemini-2.5-pro",
        "gemini-2.5-flash",
    }


def test_lookup_takes_a_version_suffix_but_not_another_model():
    assert lookup("gemini-2.5-pro-001") is MODELS["gemini-2.5-pro"]
    assert lookup("models/gemini-3.8-flash") is MODELS["gemini-3.8-flash"]
    assert lookup("gemini-2.5-flash-lite") is MODELS["gemini-2.5-flash-lite"]
    assert lookup("gemini-2.5-pro-preview-06-05") is None and lookup("gemini-3.7-flash") is None


def test_thinking_rules():
    pro = ThinkingBudget(low=128, high=32768, can_disable=False)
    assert pro.problem(0) and pro.problem(127) and pro.problem(32769)
    assert pro.problem(-1) is None and pro.problem(128) is None
    assert pro.fit(0) == 128 and pro.fit(4096) == 4096  # defaults are made valid, settings are not
    flash_lite = ThinkingBudget(low=512, high=24576, can_disable=True)
    assert flash_lite.problem(0) is None and flash_lite.problem(100)
    levels = ThinkingLevels(allowed=("low", "medium", "high"), default="medium")
    assert levels.problem("minimal") and levels.problem("high") is None
    assert levels.fit("minimal") == "low" and levels.fit("medium") == "medium"
