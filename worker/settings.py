"""Settings, read once at start-up from the environment (and `.env`), then passed down.

Env var names are the seed's. URLs in the seed are examples, not defaults: an unset
VM_INTERNAL_BASE_URL means the embedded VM API, an unset QDRANT_URL means Qdrant local mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    GOOGLE_API_KEY: SecretStr | None = None
    GEMINI_MODEL_ROUTER: str = "gemini-2.5-flash"
    GEMINI_MODEL_MAIN: str = "gemini-2.5-pro"
    # gemini when a key is present, offline otherwise (resolved in the validator below).
    LLM_PROVIDER: Literal["gemini", "offline"] | None = None

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
    # The queue's messages endpoint; unset → the region's default.
    OCI_QUEUE_ENDPOINT: str | None = None
    # Bound on the SDK's retries of one publish call (the result, or one batch of tokens).
    OCI_PUBLISH_RETRY_S: float = Field(default=6.0, gt=0, le=60)

    # OCI Function: requests of one invocation's batch run at most this many at a time, and work
    # stops DEADLINE_RESERVE_S before the invocation deadline so a TIMEOUT result still goes out.
    BATCH_CONCURRENCY: int = Field(default=4, ge=1, le=32)
    DEADLINE_RESERVE_S: float = Field(default=10.0, ge=0, le=120)

    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _resolve_provider(self) -> "Settings":
        if self.LLM_PROVIDER is None:
            has_key = self.GOOGLE_API_KEY is not None and self.GOOGLE_API_KEY.get_secret_value()
            self.LLM_PROVIDER = "gemini" if has_key else "offline"
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
