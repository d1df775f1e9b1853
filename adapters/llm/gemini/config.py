"""What the Gemini provider needs from the settings, checked once at start-up against the model
registry (core/gemini_models.py): a setting the chosen model would refuse is a ConfigError here,
never a 400 on every request."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import SecretStr

from core.errors import ConfigError
from core.gemini_models import DEFAULT_MAIN_MODEL, DEFAULT_ROUTER_MODEL, TEMPERATURE_RANGE, GeminiModel, lookup

log = logging.getLogger("reppy.gemini")

# The graph nodes that call the model; usage records and thinking settings are keyed by them.
ROUTE, PLAN, CHAT, GENERATE, UPDATE = "route_intent", "plan_chat", "respond_chat", "generate_routine", "update_routine"
REMEMBER = "remember"
ROUTER_NODES, MAIN_NODES = (ROUTE, PLAN, REMEMBER), (CHAT, GENERATE, UPDATE)
# The settings' suffix per node (the router's setting covers all three router-model nodes).
SUFFIX = {ROUTE: "ROUTER", PLAN: "ROUTER", REMEMBER: "ROUTER", CHAT: "CHAT", GENERATE: "GENERATE", UPDATE: "UPDATE"}

# Defaults per node when the setting is unset, made valid for the chosen model. Routing, planning
# and memory extraction are classification: as little thinking as the model allows. Programs get
# the most, being the longest structured output.
DEFAULT_BUDGET = {"ROUTER": 0, "CHAT": 1024, "GENERATE": 4096, "UPDATE": 2048}
DEFAULT_LEVEL = {"ROUTER": "minimal", "CHAT": "low", "GENERATE": "medium", "UPDATE": "low"}
# Gemini 2.5 temperatures per node when unset (Gemini 3 keeps its default 1.0, as Google advises):
# routing the same message the same way, programs close to the request and the catalog, the chat
# answer free in its wording.
TEMPERATURE_25 = {ROUTE: 0.0, PLAN: 0.0, REMEMBER: 0.0, CHAT: 0.7, GENERATE: 0.2, UPDATE: 0.2}


@dataclass(frozen=True)
class GeminiConfig:
    api_key: SecretStr
    router_model: str = DEFAULT_ROUTER_MODEL
    main_model: str = DEFAULT_MAIN_MODEL
    base_url: str | None = None  # None: Google's endpoint
    # Per node: what the request's thinkingConfig carries ({"thinking_budget": n} or
    # {"thinking_level": "low"}; {} sends none) and the temperature (None sends none).
    thinking: dict[str, dict[str, Any]] = field(default_factory=dict)
    temperatures: dict[str, float | None] = field(default_factory=dict)
    router_max_output_tokens: int = 512
    main_max_output_tokens: int = 16384
    router_timeout_s: float = 20.0
    main_timeout_s: float = 120.0
    max_retries: int = 2
    retry_base_delay_s: float = 1.0
    retry_max_delay_s: float = 10.0

    @classmethod
    def from_settings(cls, settings, *, today: date | None = None) -> GeminiConfig:
        key = settings.GOOGLE_API_KEY
        if key is None or not key.get_secret_value():
            raise ConfigError("LLM_PROVIDER=gemini needs GOOGLE_API_KEY")
        base_url = settings.GEMINI_BASE_URL or None
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise ConfigError("GEMINI_BASE_URL must be an http(s) URL, e.g. http://127.0.0.1:8765")
        thinking: dict[str, dict[str, Any]] = {}
        temperatures: dict[str, float | None] = {}
        roles = (
            ("GEMINI_MODEL_ROUTER", ROUTER_NODES, "GEMINI_MAX_OUTPUT_TOKENS_ROUTER", "GEMINI_TEMPERATURE_ROUTER"),
            ("GEMINI_MODEL_MAIN", MAIN_NODES, "GEMINI_MAX_OUTPUT_TOKENS_MAIN", "GEMINI_TEMPERATURE_MAIN"),
        )
        for model_setting, nodes, cap_setting, temperature_setting in roles:
            name = getattr(settings, model_setting)
            model = lookup(name)
            _check_model(model_setting, name, model, today or date.today())
            _check_output_cap(cap_setting, getattr(settings, cap_setting), name, model)
            temperature = _temperature(temperature_setting, getattr(settings, temperature_setting), name, model)
            for node in nodes:
                thinking[node] = _thinking(settings, SUFFIX[node], name, model)
                temperatures[node] = temperature if temperature is not None else _default_temperature(node, model)
        return cls(
            api_key=key,
            router_model=settings.GEMINI_MODEL_ROUTER,
            main_model=settings.GEMINI_MODEL_MAIN,
            base_url=base_url,
            thinking=thinking,
            temperatures=temperatures,
            router_max_output_tokens=settings.GEMINI_MAX_OUTPUT_TOKENS_ROUTER,
            main_max_output_tokens=settings.GEMINI_MAX_OUTPUT_TOKENS_MAIN,
            router_timeout_s=settings.GEMINI_TIMEOUT_ROUTER_S,
            main_timeout_s=settings.GEMINI_TIMEOUT_MAIN_S,
            max_retries=settings.GEMINI_MAX_RETRIES,
            retry_base_delay_s=settings.GEMINI_RETRY_BASE_DELAY_S,
            retry_max_delay_s=settings.GEMINI_RETRY_MAX_DELAY_S,
        )


def _check_model(setting: str, name: str, model: GeminiModel | None, today: date) -> None:
    if model is None:
        # Not refused: Google ships models faster than this table. Nothing model-specific is sent.
        log.warning(
            "%s=%s is not in the model registry: running it with the model's own thinking and "
            "temperature defaults; prices unknown, so its calls have no cost_usd",
            setting,
            name,
        )
        return
    if model.shutdown is not None:
        when = "was shut down on" if today >= model.shutdown else "shuts down on"
        instead = f"; Google routes its requests to {model.replacement}" if model.replacement else ""
        log.warning("%s=%s %s %s%s", setting, name, when, model.shutdown.isoformat(), instead)
    if model.stage != "GA":
        log.warning("%s=%s is a %s model, not generally available", setting, name, model.stage)


def _check_output_cap(setting: str, cap: int, name: str, model: GeminiModel | None) -> None:
    if model is not None and cap > model.max_output_tokens:
        raise ConfigError(f"{setting}={cap} is above {name}'s output limit ({model.max_output_tokens} tokens)")


def _temperature(setting: str, value: float | None, name: str, model: GeminiModel | None) -> float | None:
    if value is None:
        return None
    low, high = TEMPERATURE_RANGE
    if not low <= value <= high:
        raise ConfigError(f"{setting}={value:g} is outside the range Gemini accepts ({low:g}..{high:g})")
    if model is not None and model.fixed_sampling:
        raise ConfigError(f"{setting}={value:g}: {name} ignores a custom temperature; leave it unset")
    if model is not None and model.uses_levels and value != 1.0:
        log.warning("%s=%g: Google advises keeping Gemini 3 models at their default 1.0", setting, value)
    return value


def _default_temperature(node: str, model: GeminiModel | None) -> float | None:
    if model is None or model.uses_levels:
        return model.recommended_temperature if model is not None else None
    return TEMPERATURE_25[node]


def _thinking(settings, suffix: str, name: str, model: GeminiModel | None) -> dict[str, Any]:
    budget_setting, level_setting = f"GEMINI_THINKING_BUDGET_{suffix}", f"GEMINI_THINKING_LEVEL_{suffix}"
    budget, level = getattr(settings, budget_setting), getattr(settings, level_setting)
    if budget is not None and level is not None:
        raise ConfigError(f"set {budget_setting} or {level_setting}, not both (Gemini refuses both in one request)")
    if model is None:
        # Unknown model: only what the operator asked for explicitly.
        return {"thinking_budget": budget} if budget is not None else {"thinking_level": level} if level else {}
    if model.uses_levels:
        key, value, setting, default = "thinking_level", level, level_setting, DEFAULT_LEVEL[suffix]
        if budget is not None:
            allowed = ", ".join(model.thinking.allowed)
            raise ConfigError(f"{budget_setting} is for Gemini 2.5 models; {name} takes {level_setting} ({allowed})")
    else:
        key, value, setting, default = "thinking_budget", budget, budget_setting, DEFAULT_BUDGET[suffix]
        if level is not None:
            raise ConfigError(f"{level_setting} is for Gemini 3 models; {name} takes {budget_setting} (tokens)")
    if value is None:
        return {key: model.thinking.fit(default)}  # a default, made valid for this model
    problem = model.thinking.problem(value)
    if problem:
        raise ConfigError(f"{setting}={value} is not valid for {name}: {problem}")
    return {key: value}
