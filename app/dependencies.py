"""The composition root: settings → the adapters one warm process reuses for every request."""

from __future__ import annotations

import contextlib
import gc
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from core.errors import ConfigError
from core.settings import Settings

if TYPE_CHECKING:
    from adapters.emit.base import ResultEmitter, TokenEmitter
    from adapters.llm.base import ModelProvider
    from adapters.memory.base import UserMemory
    from adapters.vm_api.base import VMApi
    from app.claim import Claim
    from app.telemetry import Telemetry
    from graph.context import Context


@dataclass
class Dependencies:
    settings: Settings
    llm: ModelProvider
    vm: VMApi
    memory: UserMemory
    tokens: TokenEmitter
    results: ResultEmitter
    telemetry: Telemetry | None = None  # from the settings unless given (app/telemetry.py)
    # A Function instance loads its memory store beside its first run's model calls (run_started).
    warm_up: bool = False
    _warming: threading.Thread | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        from app.telemetry import instrument

        instrument(self)

    def context(self, deadline: float | None = None, claim: Claim | None = None) -> Context:
        """The adapters one run uses. With a `deadline` (on the `time.monotonic()` clock), every
        model and VM call is cut off at it (see app/deadline.py); with a `claim`, every memory
        write waits for it (see app/claim.py)."""
        from graph.context import Context

        llm, vm, memory = self.llm, self.vm, self.memory
        if deadline is not None:
            from app.deadline import DeadlineModel, DeadlineVM

            llm, vm = DeadlineModel(llm, deadline), DeadlineVM(vm, deadline)
        if claim is not None:
            from app.claim import ClaimedMemory

            memory = ClaimedMemory(memory, claim)
        return Context(
            llm=llm,
            vm=vm,
            memory=memory,
            min_confidence=self.settings.ROUTER_MIN_CONFIDENCE,
            catalog_max_searches=self.settings.CATALOG_MAX_SEARCHES,
            memory_top_k=self.settings.MEMORY_TOP_K,
        )

    def run_started(self) -> None:
        """The runner's signal that a run's graph has started (its router and planner calls go out
        now). The first time, with `warm_up`, what a request needs only after its router call — the
        memory store and its embedding model (qdrant-client alone is ~0.7 s of imports) — loads on a
        thread of its own: beside the router call's wait, not before it (where its imports would
        compete with the model client's for the interpreter), nor after it (where gather_context or
        remember would wait for it). A failure is left for that first use to report. Then the
        collector freezes what is loaded (see _warm_up)."""
        if not self.warm_up or self._warming is not None:
            return
        self._warming = threading.Thread(target=_warm_up, args=(self.memory,), name="reppy-warm-up", daemon=True)
        self._warming.start()

    async def aclose(self) -> None:
        await self.vm.aclose()
        await self.memory.aclose()
        close_llm = getattr(self.llm, "aclose", None)  # Gemini holds HTTP sessions; offline nothing
        if close_llm is not None:
            await close_llm()
        if self.telemetry is not None:
            await self.telemetry.aclose()  # what is still batched: metrics, spans


def build_dependencies(settings: Settings, *, out: TextIO | None = None, **overrides: Any) -> Dependencies:
    """Adapters chosen by the settings; `overrides` replace any of them (tests, embedding callers)."""
    parts: dict[str, Any] = dict(overrides)
    if "llm" not in parts:
        parts["llm"] = _model_provider(settings)
    if "vm" not in parts:
        parts["vm"] = _vm_api(settings)
    if "memory" not in parts:
        parts["memory"] = memory_store(settings)
    if "tokens" not in parts or "results" not in parts:
        # OCI Streaming / Queue for whichever id is set; JSON lines for the rest.
        if settings.OCI_STREAM_ID or settings.OCI_RESULT_QUEUE_ID:
            from app.oci_emitters import build_oci_emitters

            for name, emitter in build_oci_emitters(settings).items():
                parts.setdefault(name, emitter)
        if "tokens" not in parts or "results" not in parts:
            from adapters.emit.jsonl import JsonLinesEmitter

            emitter = JsonLinesEmitter(out)
            parts.setdefault("tokens", emitter)
            parts.setdefault("results", emitter)
    return Dependencies(settings=settings, **parts)


def memory_store(settings: Settings) -> UserMemory:
    """The user memory the settings name: a Qdrant server (QDRANT_URL) or local mode."""
    from adapters.memory.qdrant import QdrantMemory

    return QdrantMemory(
        collection=settings.QDRANT_COLLECTION_MEMORY,
        url=settings.QDRANT_URL,
        api_key=_secret(settings.QDRANT_API_KEY),
        path=None if settings.QDRANT_URL else settings.qdrant_path(),
        min_score=settings.MEMORY_MIN_SCORE,
        max_per_user=settings.MEMORY_MAX_PER_USER,
    )


def missing_production_settings(settings: Settings) -> list[str]:
    """Names of the production settings left unset, each of which would silently mean a demo part:
    the offline model, the demo VM data, a local Qdrant on the Function's read-only disk, events in
    the function log. Names only, never values."""
    has_key = bool(_secret(settings.GOOGLE_API_KEY))
    present = {
        "GOOGLE_API_KEY": has_key,
        "LLM_PROVIDER": settings.LLM_PROVIDER == "gemini" or not has_key,  # offline chosen despite a key
        "VM_INTERNAL_BASE_URL": bool(settings.VM_INTERNAL_BASE_URL),
        "QDRANT_URL": bool(settings.QDRANT_URL),
        "OCI_RESULT_QUEUE_ID": bool(settings.OCI_RESULT_QUEUE_ID),
        "OCI_STREAM_ID": bool(settings.OCI_STREAM_ID),
    }
    return [name for name, ok in present.items() if not ok]


def check_production(settings: Settings) -> None:
    """In a Function, the embedded defaults are a configuration error unless ALLOW_EMBEDDED_DEFAULTS
    allows them: plausible demo answers must never reach real users."""
    if settings.ALLOW_EMBEDDED_DEFAULTS:
        return
    missing = missing_production_settings(settings)
    if missing:
        raise ConfigError(
            "production settings missing: "
            + ", ".join(missing)
            + " (set them, or ALLOW_EMBEDDED_DEFAULTS=true for a demo with the embedded parts)"
        )


def _model_provider(settings: Settings) -> ModelProvider:
    from adapters.prompts import load_prompts

    prompts = load_prompts(settings.prompts_dir())
    if settings.LLM_PROVIDER == "offline":
        from adapters.llm.offline import OfflineProvider

        return OfflineProvider(prompts)
    from adapters.llm.gemini import GeminiConfig, GeminiProvider

    return GeminiProvider(prompts, GeminiConfig.from_settings(settings))


def _vm_api(settings: Settings) -> VMApi:
    if not settings.VM_INTERNAL_BASE_URL:
        from adapters.vm_api.embedded import EmbeddedVMApi

        return EmbeddedVMApi()
    if not settings.VM_INTERNAL_BASE_URL.startswith(("http://", "https://")):
        raise ConfigError("VM_INTERNAL_BASE_URL must be an http(s) URL, e.g. http://127.0.0.1:8080/internal")
    if settings.VM_INTERNAL_TOKEN is None or not settings.VM_INTERNAL_TOKEN.get_secret_value():
        # Every VM call needs the Bearer token: fail at start-up, not as VM_AUTH on every request.
        raise ConfigError("VM_INTERNAL_BASE_URL is set but VM_INTERNAL_TOKEN is not")
    from adapters.vm_api.http import HttpVMApi

    return HttpVMApi(
        settings.VM_INTERNAL_BASE_URL,
        _secret(settings.VM_INTERNAL_TOKEN),
        connect_timeout=settings.VM_TIMEOUT_CONNECT_S,
        read_timeout=settings.VM_TIMEOUT_READ_S,
    )


def _warm_up(memory: Any) -> None:
    warm_up = getattr(memory, "warm_up", None)
    if warm_up is not None:
        with contextlib.suppress(Exception):  # the first request that needs it reports it, typed
            warm_up()
    # What is loaded by now stays for the instance's life. Frozen, the cyclic collector stops walking
    # it: a full collection over it paused everything for ~150 ms under load (bench machine, 50
    # concurrent requests), ~15 ms once frozen. The first run's live objects are frozen with it, once.
    gc.freeze()


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None else None
