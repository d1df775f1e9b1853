"""Settings, read once at start-up from the environment (and `.env`), then passed down.

Env var names are the seed's. URLs in the seed are examples, not defaults: an unset
VM_INTERNAL_BASE_URL means the embedded VM API, an unset QDRANT_URL means Qdrant local mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class ModelPrice(BaseModel):
    """USD per 1M tokens. Thinking tokens are billed as output."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


# Gemini API list prices (prompts up to 200k tokens). Keys match a model name exactly or as the
# start of a versioned name ("gemini-2.5-pro-001"); the longest key wins.
DEFAULT_PRICES = {
    "gemini-2.5-pro": ModelPrice(input=1.25, output=10.0),
    "gemini-2.5-flash": ModelPrice(input=0.30, output=2.50),
    "gemini-2.5-flash-lite": ModelPrice(input=0.10, output=0.40),
    "offline": ModelPrice(input=0.0, output=0.0),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True)

    GOOGLE_API_KEY: SecretStr | None = None
    GEMINI_MODEL_ROUTER: str = "gemini-2.5-flash"
    GEMINI_MODEL_MAIN: str = "gemini-2.5-pro"
    # gemini when a key is present, offline otherwise (resolved in the validator below).
    LLM_PROVIDER: Literal["gemini", "offline"] | None = None
    # Unset: Google's endpoint. Another URL (a gateway, or the local stand-in) gets the same calls.
    GEMINI_BASE_URL: str | None = None
    # Thinking budgets in tokens per node (0 off, -1 dynamic); they count towards the output cap.
    GEMINI_THINKING_BUDGET_ROUTER: int = Field(default=0, ge=-1, le=32768)
    GEMINI_THINKING_BUDGET_CHAT: int = Field(default=1024, ge=-1, le=32768)
    GEMINI_THINKING_BUDGET_GENERATE: int = Field(default=4096, ge=-1, le=32768)
    GEMINI_THINKING_BUDGET_UPDATE: int = Field(default=2048, ge=-1, le=32768)
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

    @model_validator(mode="after")
    def _resolve_provider(self) -> Settings:
        if self.LLM_PROVIDER is None:
            has_key = self.GOOGLE_API_KEY is not None and self.GOOGLE_API_KEY.get_secret_value()
            self.LLM_PROVIDER = "gemini" if has_key else "offline"
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
            if getattr(self, name) >= cap:
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
