"""What the worker knows about each Gemini model: how its thinking is controlled, the temperature
Google recommends, its output-token limit, its price and its shutdown date.

Every figure was looked up with the search tool and carries its source and the date it was read;
"not found" says the search found no figure (the code then falls back as described beside it). Keys
are model ids as the Gemini API takes them; a versioned name ("gemini-2.5-pro-001") finds its base.

Lives in core/ because the settings (defaults), the cost estimate (core/usage.py) and the Gemini
adapter all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, Field

READ = "read 2026-11-26"

# Sources (all read 2026-11-26 through the search tool):
DEPRECATIONS = "https://ai.google.dev/gemini-api/docs/deprecations"
DEPRECATION_NOTICE = (
    "https://dev.to/aideprecations/what-to-do-before-gemini-25-pro-and-25-flash-are-retired-on-december-1-2026-5gg9"
    " (quotes the deprecations page read 2026-11-10)"
)
PRICING = (
    "https://ai.google.dev/gemini-api/docs/pricing, as transcribed verbatim 2026-10-07 in"
    " github.com/api-evangelist/deepmind plans/deepmind-plans-pricing.yml"
)
THINKING_25 = (
    "https://github.com/snailyp/gemini-balance/issues/195 (table copied from ai.google.dev/gemini-api/docs/thinking)"
)
VERTEX_38_FLASH = "https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/gemini/3-8-flash"
VERTEX_35_FLASH_LITE = (
    "https://documentation.s3ns.fr/gemini-enterprise-agent-platform/models/gemini/3-5-flash-lite?hl=en"
)
GEMINI3_TEMPERATURE = "https://docs.cloud.google.com/vertex-ai/generative-ai/docs/start/gemini-3-prompting-guide"


class ModelPrice(BaseModel):
    """USD per 1M tokens. Thinking is billed as output. Prompts longer than `long_context_above`
    tokens (cached part included) are billed at the `*_long` rates where a model has such a tier.
    `cached_input` None: cached tokens are billed as input (no cached rate known). A price that
    changes on a set day names its last day (`until`) and the price after it (`then`)."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    long_context_above: int | None = Field(default=None, gt=0)
    input_long: float | None = Field(default=None, ge=0)
    output_long: float | None = Field(default=None, ge=0)
    cached_input_long: float | None = Field(default=None, ge=0)
    until: date | None = None
    then: ModelPrice | None = None

    def on(self, day: date) -> ModelPrice:
        """The price in force on `day`."""
        if self.until is not None and self.then is not None and day > self.until:
            return self.then.on(day)
        return self

    def rates(self, prompt_tokens: int) -> tuple[float, float, float]:
        """(input, cached input, output) rates for a prompt of this size."""
        long = self.long_context_above is not None and prompt_tokens > self.long_context_above
        if long:
            input_rate = self.input_long if self.input_long is not None else self.input
            output_rate = self.output_long if self.output_long is not None else self.output
            cached = self.cached_input_long if self.cached_input_long is not None else self.cached_input
        else:
            input_rate, output_rate, cached = self.input, self.output, self.cached_input
        return input_rate, (input_rate if cached is None else cached), output_rate


@dataclass(frozen=True)
class ThinkingBudget:
    """Gemini 2.5: `thinkingBudget` in tokens, -1 for dynamic thinking."""

    low: int
    high: int
    can_disable: bool  # 0 turns thinking off

    def problem(self, budget: int) -> str | None:
        if budget == -1 or self.low <= budget <= self.high:
            return None
        allowed = f"{'0 (off), ' if self.can_disable else ''}-1 (dynamic) or {self.low}..{self.high}"
        if budget == 0:
            return None if self.can_disable else f"this model cannot turn thinking off; allowed: {allowed}"
        return f"{budget} is out of range; allowed: {allowed}"

    def fit(self, budget: int) -> int:
        """A default budget made valid for this model (never used on a value the user set)."""
        if self.problem(budget) is None:
            return budget
        return min(max(budget, self.low), self.high)


LEVELS = ("minimal", "low", "medium", "high")


@dataclass(frozen=True)
class ThinkingLevels:
    """Gemini 3.x: `thinkingLevel`, one of the levels the model allows."""

    allowed: tuple[str, ...]
    default: str

    def problem(self, level: str) -> str | None:
        return None if level in self.allowed else f"{level} is not supported; allowed: {', '.join(self.allowed)}"

    def fit(self, level: str) -> str:
        """The nearest allowed level at or above `level` (a default made valid for this model)."""
        for candidate in LEVELS[LEVELS.index(level) :]:
            if candidate in self.allowed:
                return candidate
        return self.allowed[-1]


@dataclass(frozen=True)
class GeminiModel:
    id: str
    stage: str  # "GA" | "preview"
    thinking: ThinkingBudget | ThinkingLevels
    max_output_tokens: int
    price: ModelPrice
    # None: send no temperature, the model's default applies (Gemini 3: 1.0, as Google advises).
    recommended_temperature: float | None = None
    fixed_sampling: bool = False  # the API ignores a custom temperature
    shutdown: date | None = None
    replacement: str | None = None
    sources: str = ""

    @property
    def uses_levels(self) -> bool:
        return isinstance(self.thinking, ThinkingLevels)


TEMPERATURE_RANGE = (0.0, 2.0)  # every Gemini model; langchain-google-genai 4.4.3 checks the same range

MODELS: dict[str, GeminiModel] = {
    model.id: model
    for model in (
        GeminiModel(
            # GA 2026-09-02, no shutdown announced (DEPRECATIONS, read 2026-11-26). Levels LOW, MEDIUM
            # (default), HIGH; MINIMAL is rejected with a 400 (VERTEX_38_FLASH; recorded 400 in
            # github.com/theJayTea/WritingTools/issues/282). Output limit 65,536 (VERTEX_38_FLASH).
            # Price $0.75 in / $3.75 out (thinking included) through 2026-12-31, $1.50 / $7.50 from
            # 2027-01-01, no long-context tier listed (PRICING). Cached input $0.075: docs.apiyi.com
            # models/gemini-3-8-flash (a reseller quoting list prices; the official cached rate was
            # not found). Temperature: keep the default 1.0 (GEMINI3_TEMPERATURE). All read 2026-11-26.
            id="gemini-3.8-flash",
            stage="GA",
            thinking=ThinkingLevels(allowed=("low", "medium", "high"), default="medium"),
            max_output_tokens=65536,
            price=ModelPrice(
                input=0.75,
                output=3.75,
                cached_input=0.075,
                until=date(2026, 12, 31),
                then=ModelPrice(input=1.50, output=7.50, cached_input=0.15),
            ),
            sources=f"{DEPRECATIONS}; {VERTEX_38_FLASH}; {PRICING}; {GEMINI3_TEMPERATURE} ({READ})",
        ),
        GeminiModel(
            # GA 2026-07-21, no shutdown announced (DEPRECATIONS). Levels minimal (default), low,
            # medium, high; custom temperature / top-k / top-p are ignored (VERTEX_35_FLASH_LITE;
            # langchain-google-genai 4.4.3 drops them with a warning). Output limit 65,536
            # (VERTEX_35_FLASH_LITE). Price $0.30 / $2.50 (PRICING). Cached input $0.03:
            # docs.apiyi.com/en/models/gemini-3-5-flash-lite (reseller; official rate not found).
            id="gemini-3.5-flash-lite",
            stage="GA",
            thinking=ThinkingLevels(allowed=("minimal", "low", "medium", "high"), default="minimal"),
            max_output_tokens=65536,
            price=ModelPrice(input=0.30, output=2.50, cached_input=0.03),
            fixed_sampling=True,
            sources=f"{DEPRECATIONS}; {VERTEX_35_FLASH_LITE}; {PRICING} ({READ})",
        ),
        GeminiModel(
            # GA 2026-05-07, shutdown 2027-05-07 (DEPRECATIONS ?authuser=0). Four levels
            # (docs.litellm.ai/blog/gemini_3_1_flash_lite_preview); the default level was not found,
            # "minimal" is assumed only for documentation. Output 65,536 (docs.apiyi.com ru/models/
            # gemini-3-1-flash-lite). Price $0.25 / $1.50 (www.morphllm.com/gemini-api-pricing,
            # quoting ai.google.dev); cached rate not found (billed as input here).
            id="gemini-3.1-flash-lite",
            stage="GA",
            thinking=ThinkingLevels(allowed=("minimal", "low", "medium", "high"), default="minimal"),
            max_output_tokens=65536,
            price=ModelPrice(input=0.25, output=1.50),
            shutdown=date(2027, 5, 7),
            sources=f"{DEPRECATIONS}; www.morphllm.com/gemini-api-pricing ({READ})",
        ),
        GeminiModel(
            # Preview (not GA), no shutdown announced (DEPRECATIONS). Levels LOW, MEDIUM, HIGH
            # (default) (docs.cloud.google.com ... guides/gemini-3-8-flash comparison table). Output
            # 65,536 (ai.google.dev/gemini-api/docs/models/gemini-3.1-pro-preview). Price $2 / $12
            # for prompts <= 200k tokens, $4 / $18 above (PRICING); cached rate not found.
            id="gemini-3.1-pro-preview",
            stage="preview",
            thinking=ThinkingLevels(allowed=("low", "medium", "high"), default="high"),
            max_output_tokens=65536,
            price=ModelPrice(input=2.0, output=12.0, long_context_above=200_000, input_long=4.0, output_long=18.0),
            sources=f"{DEPRECATIONS}; {PRICING} ({READ})",
        ),
        GeminiModel(
            # Shut down 2026-12-01; from then requests are routed to gemini-3.8-flash at its prices
            # and parameter rules (DEPRECATION_NOTICE). Budget 128..32768, cannot be 0, -1 dynamic
            # (THINKING_25; recorded 400 "Budget 0 is invalid. This model only works in thinking
            # mode." in github.com/snailyp/gemini-balance/issues/206). Output 65,536
            # (github.com/anomalyco/models.dev/pull/1493). Price $1.25 / $10 for prompts <= 200k,
            # input $2.50 above (PRICING); output above 200k $15 (geotoolbox.ai/blog/gemini-api-pricing,
            # July 2026); cached rate not found (billed as input here).
            id="gemini-2.5-pro",
            stage="GA",
            thinking=ThinkingBudget(low=128, high=32768, can_disable=False),
            max_output_tokens=65536,
            price=ModelPrice(input=1.25, output=10.0, long_context_above=200_000, input_long=2.50, output_long=15.0),
            shutdown=date(2026, 12, 1),
            replacement="gemini-3.8-flash",
            sources=f"{DEPRECATION_NOTICE}; {THINKING_25}; {PRICING} ({READ})",
        ),
        GeminiModel(
            # Shut down 2026-12-01, routed to gemini-3.5-flash-lite (DEPRECATION_NOTICE). Budget
            # 0..24576, -1 dynamic (THINKING_25). Output 65,535 (vercel.com/ai-gateway/models/
            # gemini-2.5-flash.md). Price $0.30 / $2.50 (PRICING; output from the same page via
            # www.morphllm.com/gemini-api-pricing); cached rate not found (billed as input here).
            id="gemini-2.5-flash",
            stage="GA",
            thinking=ThinkingBudget(low=1, high=24576, can_disable=True),
            max_output_tokens=65535,
            price=ModelPrice(input=0.30, output=2.50),
            shutdown=date(2026, 12, 1),
            replacement="gemini-3.5-flash-lite",
            sources=f"{DEPRECATION_NOTICE}; {THINKING_25}; {PRICING} ({READ})",
        ),
        GeminiModel(
            # "Not deprecated and remains available through the API until further notice"
            # (DEPRECATION_NOTICE). Budget 0 or 512..24576, -1 dynamic, off by default (THINKING_25).
            # Output 65,536 (documentation.s3ns.fr ... models/gemini/2-5-flash-lite). Price $0.10 /
            # $0.40 (PRICING, morphllm.com); cached rate not found.
            id="gemini-2.5-flash-lite",
            stage="GA",
            thinking=ThinkingBudget(low=512, high=24576, can_disable=True),
            max_output_tokens=65536,
            price=ModelPrice(input=0.10, output=0.40),
            sources=f"{DEPRECATION_NOTICE}; {THINKING_25}; {PRICING} ({READ})",
        ),
    )
}

# The roles' defaults: a fast, cheap model for routing, planning and memory extraction; the
# strongest generally available model for answers, programs and routine updates (3.1 Pro is
# still a preview, so the strongest GA model is 3.8 Flash).
DEFAULT_ROUTER_MODEL = "gemini-3.5-flash-lite"
DEFAULT_MAIN_MODEL = "gemini-3.8-flash"


def lookup(model: str) -> GeminiModel | None:
    """The registry entry for a model id, exact or with a version suffix ("gemini-2.5-pro-001")."""
    name = model.removeprefix("models/")
    if name in MODELS:
        return MODELS[name]
    matches = [key for key in MODELS if name.startswith(key + "-") and name[len(key) + 1 :].isdigit()]
    return MODELS[max(matches, key=len)] if matches else None


def default_prices() -> dict[str, ModelPrice]:
    return {name: model.price for name, model in MODELS.items()} | {"offline": ModelPrice(input=0.0, output=0.0)}
