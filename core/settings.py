"""Settings, read once at start-up from the environment (and `.env`), then passed down.

Env var names are the product spec's. URLs in the spec are examples, not defaults: an unset
VM_INTERNAL_BASE_URL means the embedded VM API, an unset QDRANT_URL means Qdrant local mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.gemini_models import DEFAULT_MAIN_MODEL, DEFAULT_ROUTER_MODEL, ModelPrice, default_prices

REPO_ROOT = Path(__file__).resolve().parent.parent


# Prices, default models and per-model rules live in the model registry (sources and dates there).
DEFAULT_PRICES = default_prices()
ThinkingLevel = Literal["minimal", "low", "medium", "high"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True)

    GOOGLE_API_KEY: SecretStr | None = None
    GEMINI_MODEL_ROUTER: str = DEFAULT_ROUTER_MODEL
    GEMINI_MODEL_MAIN: str = DEFAULT_MAIN_MODEL
    # gemini when a key is present, offline otherwise (resolved in the validator below).
    LLM_PROVIDER: Literal["gemini", "offline"] | None = None
    # Unset: Google's endpoint. Another URL (a gateway, or the local stand-in) gets the same calls.
    GEMINI_BASE_URL: str | None = None
    # Thinking per node: a budget in tokens for Gemini 2.5 models (0 off, -1 dynamic; it counts
    # towards the output cap), a level for Gemini 3.x. Unset: the node's default for the chosen
    # model. Checked against the model registry at start-up (adapters/llm/gemini/config.py).
    GEMINI_THINKING_BUDGET_ROUTER: int | None = Field(default=None, ge=-1, le=32768)
    GEMINI_THINKING_BUDGET_CHAT: int | None = Field(default=None, ge=-1, le=32768)
    GEMINI_THINKING_BUDGET_GENERATE: int | None = Field(default=None, ge=-1, le=32768)
    GEMINI_THINKING_BUDGET_UPDATE: int | None = Field(default=None, ge=-1, le=32768)
    GEMINI_THINKING_LEVEL_ROUTER: ThinkingLevel | None = None
    GEMINI_THINKING_LEVEL_CHAT: ThinkingLevel | None = None
    GEMINI_THINKING_LEVEL_GENERATE: ThinkingLevel | None = None
    GEMINI_THINKING_LEVEL_UPDATE: ThinkingLevel | None = None
    # Unset: the model family's recommendation (Gemini 3: the API default 1.0; 2.5: per node).
    GEMINI_TEMPERATURE_ROUTER: float | None = None
    GEMINI_TEMPERATURE_MAIN: float | None = None
    GEMINI_MAX_OUTPUT_TOKENS_ROUTER: int = Field(default=512, ge=16, le=65536)
    GEMINI_MAX_OUTPUT_TOKENS_MAIN: int = Field(default=16384, ge=16, le=65536)
    GEMINI_TIMEOUT_ROUTER_S: float = Field(default=20.0, gt=0)
    GEMINI_TIMEOUT_MAIN_S: float = Field(default=120.0, gt=0)
    # Retries after the first attempt, for 429 and 5xx / connection failures.
    GEMINI_MAX_RETRIES: int = Field(default=2, ge=0, le=10)
    GEMINI_RETRY_BASE_DELAY_S: float = Field(default=1.0, ge=0)
    # The longest wait honoured, whether the server asked for it (429 retryDelay) or backoff grew to it.
    GEMINI_RETRY_MAX_DELAY_S: float = Field(default=10.0, ge=0)
    LLM_PRICES: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    PROMPTS_DIR: Path = Path("./prompts")

    VM_INTERNAL_BASE_URL: str | None = None
    VM_INTERNAL_TOKEN: SecretStr | None = None
    VM_TIMEOUT_CONNECT_S: float = 2.0
    VM_TIMEOUT_READ_S: float = 5.0

    QDRANT_URL: str | None = None
    QDRANT_API_KEY: SecretStr | None = None
    QDRANT_COLLECTION_MEMORY: str = "user_memory"
    # Local mode storage; ":memory:" keeps nothing between runs.
    QDRANT_PATH: str | None = None
    MEMORY_TOP_K: int = Field(default=5, ge=1, le=50)
    MEMORY_MIN_SCORE: float = Field(default=0.80, ge=0.0, le=1.0)
    # Active facts kept per user; beyond it the least recently said or recalled are retired (and
    # as many retired ones are kept for audit, the longest retired deleted first).
    MEMORY_MAX_PER_USER: int = Field(default=500, ge=10, le=100_000)

    CATALOG_MAX_SEARCHES: int = Field(default=8, ge=1, le=20)
    ROUTER_MIN_CONFIDENCE: float = Field(default=0.55, ge=0.0, le=1.0)

    OCI_STREAM_ID: str | None = None
    OCI_RESULT_QUEUE_ID: str | None = None
    # How the OCI clients sign: resource principal inside a Function, instance principal on a VM,
    # or the SDK config file (OCI_CONFIG_FILE / OCI_CONFIG_PROFILE) on a laptop.
    OCI_AUTH: Literal["resource_principal", "instance_principal", "config"] = "resource_principal"
    OCI_CONFIG_FILE: str = "~/.oci/config"
    OCI_CONFIG_PROFILE: str = "DEFAULT"
    OCI_REGION: str | None = None
    # The stream pool's messages endpoint (StreamClient has no regional default).
    OCI_STREAM_ENDPOINT: str | None = None
    # The queue's messages endpoint; unset → looked up once with GetQueue (its messagesEndpoint).
    OCI_QUEUE_ENDPOINT: str | None = None
    # Control-plane hosts for GetQueue and Vault secrets; unset → the region's (set them for a
    # private endpoint, or the local stand-ins).
    OCI_QUEUE_ADMIN_ENDPOINT: str | None = None
    OCI_SECRETS_ENDPOINT: str | None = None
    # OCI Vault secrets that replace GOOGLE_API_KEY / VM_INTERNAL_TOKEN / QDRANT_API_KEY when set:
    # read once per Function instance with its resource principal (function config is readable by
    # anyone who can read the function; a secret OCID is not a secret).
    GOOGLE_API_KEY_SECRET_OCID: str | None = None
    VM_INTERNAL_TOKEN_SECRET_OCID: str | None = None
    QDRANT_API_KEY_SECRET_OCID: str | None = None
    # Bound on the SDK's retries of one publish call (the result, or one batch of tokens).
    OCI_PUBLISH_RETRY_S: float = Field(default=6.0, gt=0, le=60)

    # OCI Function: requests of one invocation's batch run at most this many at a time, and work
    # stops DEADLINE_RESERVE_S before the invocation deadline so a TIMEOUT result still goes out.
    BATCH_CONCURRENCY: int = Field(default=4, ge=1, le=32)
    DEADLINE_RESERVE_S: float = Field(default=10.0, ge=0, le=120)
    # A request that had to wait for a slot starts only with at least this long left before the
    # reserve; otherwise it is left unclaimed for the batch's redelivery.
    DEADLINE_MIN_START_S: float = Field(default=60.0, ge=0, le=300)
    # In an OCI Function, the embedded demo parts (offline model, demo VM data, local Qdrant, JSON
    # lines) are a configuration error unless this allows them (demos only).
    ALLOW_EMBEDDED_DEFAULTS: bool = False

    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Unset: json inside an OCI Function, text elsewhere (docs/operations.md).
    LOG_FORMAT: Literal["json", "text"] | None = None
    # Key of the user hash in log lines; unset → a random key per process (hashes then match only
    # within one instance).
    LOG_USER_HASH_KEY: SecretStr | None = None
    # OCI Monitoring custom metrics: on when a compartment is set. The endpoint is the region's
    # telemetry-ingestion one unless given.
    OCI_MONITORING_COMPARTMENT_ID: str | None = None
    OCI_MONITORING_NAMESPACE: str = Field(default="reppy_worker", pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    OCI_MONITORING_ENDPOINT: str | None = None
    # OpenTelemetry traces: exported over OTLP/HTTP when an endpoint is set, off otherwise.
    OTEL_EXPORTER_OTLP_ENDPOINT: str | None = None
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: str | None = None
    # "key=value,…" sent with every export (an OCI APM data key, say): a secret.
    OTEL_EXPORTER_OTLP_HEADERS: SecretStr | None = None
    OTEL_SERVICE_NAME: str = "reppy-worker"

    @model_validator(mode="after")
    def _resolve_provider(self) -> Settings:
        if self.LLM_PROVIDER is None:
            has_key = self.GOOGLE_API_KEY is not None and self.GOOGLE_API_KEY.get_secret_value()
            self.LLM_PROVIDER = "gemini" if has_key else "offline"
        return self

    @model_validator(mode="after")
    def _custom_metrics_namespace(self) -> Settings:
        if self.OCI_MONITORING_NAMESPACE.lower().startswith(("oci_", "oracle_")):
            # Reserved for OCI's own metrics (oci.monitoring.models.MetricDataDetails.namespace).
            raise ValueError("OCI_MONITORING_NAMESPACE must not start with oci_ or oracle_")
        return self

    @model_validator(mode="after")
    def _thinking_fits_output(self) -> Settings:
        budgets = {
            "GEMINI_THINKING_BUDGET_ROUTER": self.GEMINI_MAX_OUTPUT_TOKENS_ROUTER,
            "GEMINI_THINKING_BUDGET_CHAT": self.GEMINI_MAX_OUTPUT_TOKENS_MAIN,
            "GEMINI_THINKING_BUDGET_GENERATE": self.GEMINI_MAX_OUTPUT_TOKENS_MAIN,
            "GEMINI_THINKING_BUDGET_UPDATE": self.GEMINI_MAX_OUTPUT_TOKENS_MAIN,
        }
        for name, cap in budgets.items():
            if getattr(self, name) is not None and getattr(self, name) >= cap:
                # Thinking counts towards the output cap: this budget would leave no room to answer.
                raise ValueError(f"{name}={getattr(self, name)} must be below the output cap ({cap} tokens)")
        return self

    def prompts_dir(self) -> Path:
        """PROMPTS_DIR as given, or the repository's prompts/ when a relative default does not exist
        from the current directory (running the CLI from elsewhere)."""
        path = self.PROMPTS_DIR
        if path.is_absolute() or path.exists():
            return path
        return REPO_ROOT / path

    def qdrant_path(self) -> str:
        if self.QDRANT_PATH:
            return self.QDRANT_PATH
        from platformdirs import user_cache_dir

        return str(Path(user_cache_dir("reppy-worker")) / "qdrant")
