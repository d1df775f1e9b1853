"""What one bench run uses: model speeds, output sizes, VM latency, how many runs of each kind."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from core.gemini_models import DEFAULT_MAIN_MODEL, DEFAULT_ROUTER_MODEL
from standins.gemini import RECORDED_CHUNK_TOKENS

FLASH = DEFAULT_ROUTER_MODEL  # GEMINI_MODEL_ROUTER's default: router, planner, memory extraction
PRO = DEFAULT_MAIN_MODEL  # GEMINI_MODEL_MAIN's default: answer, program, routine update


@dataclass(frozen=True)
class ModelSpeed:
    """Time to first token (thinking included: it happens before the first token) and output rate."""

    ttft_s: float
    tokens_per_s: float | None  # None: the whole answer at once


@dataclass(frozen=True)
class OutputTokens:
    """Output tokens per node (the figures of docs/gemini.md "What a request costs")."""

    route: int = 40
    plan: int = 50
    remember: int = 15
    chat: int = 300
    program: int = 1200
    update: int = 500


@dataclass(frozen=True)
class BenchConfig:
    flash: ModelSpeed = ModelSpeed(0.3, 150.0)
    pro: ModelSpeed = ModelSpeed(0.8, 60.0)
    vm_latency_s: float = 0.030
    tokens: OutputTokens = field(default_factory=OutputTokens)
    # Output tokens per streamed event, as a recorded real stream carries them (None: one word each,
    # ~25x the events: a stress case for the per-chunk path, not what Gemini sends).
    stream_chunk_tokens: int | None = RECORDED_CHUNK_TOKENS
    iterations: int = 3  # measured requests per intent at realistic latency
    overhead_iterations: int = 10  # measured requests per intent with zero-latency stand-ins
    concurrency: int = 50
    cold_runs: int = 3  # fresh interpreters per import measurement
    warmup: int = 1  # unmeasured requests per intent first (a warm instance is what is measured)

    @classmethod
    def quick(cls) -> BenchConfig:
        """Seconds, not minutes: for the smoke test and a first look. Figures are not meaningful."""
        return cls(
            flash=ModelSpeed(0.02, 2000.0),
            pro=ModelSpeed(0.04, 2000.0),
            vm_latency_s=0.002,
            tokens=OutputTokens(route=20, plan=20, remember=5, chat=40, program=60, update=40),
            iterations=1,
            overhead_iterations=2,
            concurrency=4,
            cold_runs=1,
            warmup=1,
        )

    def with_overrides(self, **values: Any) -> BenchConfig:
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchConfig:
        return cls(
            flash=ModelSpeed(**data["flash"]),
            pro=ModelSpeed(**data["pro"]),
            vm_latency_s=data["vm_latency_s"],
            tokens=OutputTokens(**data["tokens"]),
            stream_chunk_tokens=data.get("stream_chunk_tokens"),
            iterations=data["iterations"],
            overhead_iterations=data["overhead_iterations"],
            concurrency=data["concurrency"],
            cold_runs=data["cold_runs"],
            warmup=data["warmup"],
        )

    def zero_latency(self) -> BenchConfig:
        """The same answers, instantly: what is left of a request's time is the worker's own."""
        return replace(self, flash=ModelSpeed(0.0, None), pro=ModelSpeed(0.0, None), vm_latency_s=0.0)
