"""One `ChatGoogleGenerativeAI` (and so one google-genai client and connection pool) per model name,
and a configured view of it per node.

A view is a shallow `model_copy`: it shares its model's client and only changes what the request
carries — temperature, thinking budget, output cap, timeout — and whether the call may stream.
Structured calls never stream (one generateContent, nothing for LangGraph's "messages" stream to
pick up); only the chat answer does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.llm.gemini.config import CHAT, GENERATE, PLAN, REMEMBER, ROUTE, UPDATE, GeminiConfig

# Routing and planning are classification: the same message should route the same way.
ROUTER_TEMPERATURE = 0.0
# Programs and routine edits follow the user's request and the catalog closely.
STRUCTURED_TEMPERATURE = 0.2
# The chat answer may vary in wording.
CHAT_TEMPERATURE = 0.7


@dataclass(frozen=True)
class NodeModels:
    route: Any
    plan: Any
    chat: Any
    generate: Any
    update: Any
    remember: Any
    clients: tuple[Any, ...]  # the ChatGoogleGenerativeAI each view shares a client with


def build_models(config: GeminiConfig) -> NodeModels:
    from langchain_google_genai import ChatGoogleGenerativeAI

    clients = {
        name: ChatGoogleGenerativeAI(
            model=name,
            google_api_key=config.api_key,
            base_url=config.base_url,
            # One HTTP attempt per call: the provider retries itself, honouring the server's
            # retryDelay on 429 (the SDK's own retries ignore it).
            max_retries=1,
        )
        for name in dict.fromkeys((config.router_model, config.main_model))
    }
    budgets = config.thinking_budgets

    def view(
        model: str, node: str, *, temperature: float, max_output_tokens: int, timeout_s: float, stream: bool
    ) -> Any:
        return clients[model].model_copy(
            update={
                "temperature": temperature,
                "thinking_budget": budgets[node],
                "max_output_tokens": max_output_tokens,
                "timeout": timeout_s,
                "disable_streaming": not stream,
            }
        )

    router = {
        "temperature": ROUTER_TEMPERATURE,
        "max_output_tokens": config.router_max_output_tokens,
        "timeout_s": config.router_timeout_s,
        "stream": False,
    }
    main = {"max_output_tokens": config.main_max_output_tokens, "timeout_s": config.main_timeout_s}
    return NodeModels(
        route=view(config.router_model, ROUTE, **router),
        plan=view(config.router_model, PLAN, **router),
        chat=view(config.main_model, CHAT, temperature=CHAT_TEMPERATURE, stream=True, **main),
        generate=view(config.main_model, GENERATE, temperature=STRUCTURED_TEMPERATURE, stream=False, **main),
        update=view(config.main_model, UPDATE, temperature=STRUCTURED_TEMPERATURE, stream=False, **main),
        remember=view(config.router_model, REMEMBER, **router),
        clients=tuple(clients.values()),
    )
