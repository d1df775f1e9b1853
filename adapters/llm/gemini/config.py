"""What the Gemini provider needs from the settings, checked once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from core.errors import ConfigError

# The graph nodes that call the model; usage records and thinking budgets are keyed by them.
ROUTE, PLAN, CHAT, GENERATE, UPDATE = "route_intent", "plan_chat", "respond_chat", "generate_routine", "update_routine"
REMEMBER = "remember"


@dataclass(frozen=True)
class GeminiConfig:
    api_key: SecretStr
    router_model: str = "gemini-2.5-flash"
    main_model: str = "gemini-2.5-pro"
    base_url: str | None = None  # None: Google's endpoint
    thinking_budgets: dict[str, int] = field(
        default_factory=lambda: {ROUTE: 0, PLAN: 0, REMEMBER: 0, CHAT: 1024, GENERATE: 4096, UPDATE: 2048}
    )
    router_max_output_tokens: int = 512
    main_max_output_tokens: int = 16384
    router_timeout_s: float = 20.0
    main_timeout_s: float = 120.0
    max_retries: int = 2
    retry_base_delay_s: float = 1.0
    retry_max_delay_s: float = 10.0

    @classmethod
    def from_settings(cls, settings) -> GeminiConfig:
        key = settings.GOOGLE_API_KEY
        if key is None or not key.get_secret_value():
            raise ConfigError("LLM_PROVIDER=gemini needs GOOGLE_API_KEY")
        base_url = settings.GEMINI_BASE_URL or None
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            raise ConfigError("GEMINI_BASE_URL must be an http(s) URL, e.g. http://127.0.0.1:8765")
        router_budget = settings.GEMINI_THINKING_BUDGET_ROUTER
        return cls(
            api_key=key,
            router_model=settings.GEMINI_MODEL_ROUTER,
            main_model=settings.GEMINI_MODEL_MAIN,
            base_url=base_url,
            thinking_budgets={
                ROUTE: router_budget,
                PLAN: router_budget,
                REMEMBER: router_budget,
                CHAT: settings.GEMINI_THINKING_BUDGET_CHAT,
                GENERATE: settings.GEMINI_THINKING_BUDGET_GENERATE,
                UPDATE: settings.GEMINI_THINKING_BUDGET_UPDATE,
            },
            router_max_output_tokens=settings.GEMINI_MAX_OUTPUT_TOKENS_ROUTER,
            main_max_output_tokens=settings.GEMINI_MAX_OUTPUT_TOKENS_MAIN,
            router_timeout_s=settings.GEMINI_TIMEOUT_ROUTER_S,
            main_timeout_s=settings.GEMINI_TIMEOUT_MAIN_S,
            max_retries=settings.GEMINI_MAX_RETRIES,
            retry_base_delay_s=settings.GEMINI_RETRY_BASE_DELAY_S,
            retry_max_delay_s=settings.GEMINI_RETRY_MAX_DELAY_S,
        )
