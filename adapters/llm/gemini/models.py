"""One `ChatGoogleGenerativeAI` (and so one google-genai client and connection pool) per model name,
and a configured view of it per node.

A view is a shallow `model_copy`: it shares its model's client and only changes what the request
carries — temperature, thinking (a budget for 2.5 models, a level for 3.x, as the start-up check in
config.py resolved it), output cap, timeout — and whether the call may stream.
Structured calls never stream (one generateContent, nothing for LangGraph's "messages" stream to
pick up); only the chat answer does."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from adapters.llm.gemini.config import CHAT, GENERATE, PLAN, REMEMBER, ROUTE, UPDATE, GeminiConfig
from adapters.tls import ca_context


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
    chat_model = _chat_model_class()
    # One TLS context for both clients: left to itself google-genai builds three per client (sync
    # httpx, async httpx, aiohttp), each loading the CA bundle — ~125 ms of a cold start.
    tls = ca_context()
    clients = {
        name: chat_model(
            model=name,
            google_api_key=config.api_key,
            base_url=config.base_url,
            # One HTTP attempt per call: the provider retries itself, honouring the server's
            # retryDelay on 429 (the SDK's own retries ignore it).
            max_retries=1,
            # httpx takes it as `verify`, aiohttp as `ssl`; google-genai keeps each for its own.
            client_args={"verify": tls, "ssl": tls},
        )
        for name in dict.fromkeys((config.router_model, config.main_model))
    }

    def view(model: str, node: str, *, max_output_tokens: int, timeout_s: float, stream: bool) -> Any:
        thinking = config.thinking.get(node, {})
        return clients[model].model_copy(
            update={
                "temperature": config.temperatures.get(node),
                "thinking_budget": thinking.get("thinking_budget"),
                "reasoning_effort": thinking.get("thinking_level"),  # the field behind `thinking_level`
                "max_output_tokens": max_output_tokens,
                "timeout": timeout_s,
                "disable_streaming": not stream,
            }
        )

    router = {
        "max_output_tokens": config.router_max_output_tokens,
        "timeout_s": config.router_timeout_s,
        "stream": False,
    }
    main = {"max_output_tokens": config.main_max_output_tokens, "timeout_s": config.main_timeout_s}
    return NodeModels(
        route=view(config.router_model, ROUTE, **router),
        plan=view(config.router_model, PLAN, **router),
        chat=view(config.main_model, CHAT, stream=True, **main),
        generate=view(config.main_model, GENERATE, stream=False, **main),
        update=view(config.main_model, UPDATE, stream=False, **main),
        remember=view(config.router_model, REMEMBER, **router),
        clients=tuple(clients.values()),
    )


@functools.cache
def _chat_model_class() -> type:
    """ChatGoogleGenerativeAI, keeping the usage of a blocked prompt on the non-streaming path.

    langchain-google-genai (4.4.3) returns an empty message for a response with no candidates (a
    prompt blocked by promptFeedback) and drops its usageMetadata there, though the API billed the
    prompt; its streaming path keeps it. This runs the same request and, in that one case, takes
    the usage the streaming conversion reads from the same response."""
    from google.genai.errors import ClientError, ServerError
    from langchain_google_genai import ChatGoogleGenerativeAI
    from langchain_google_genai import chat_models as lc

    class GeminiChat(ChatGoogleGenerativeAI):
        async def _agenerate(self, messages, stop=None, run_manager=None, *, cached_content=None, **kwargs):
            request = self._prepare_request(
                messages, stop=stop, cached_content=cached_content or self.cached_content, **kwargs
            )
            try:
                response = await self.async_client.models.generate_content(**request)
            except ClientError as exc:
                lc._handle_client_error(exc, request)
            except ServerError as exc:
                lc._handle_server_error(exc)
            result = lc._response_to_result(response)
            if not response.candidates and response.usage_metadata is not None:
                streamed = lc._response_to_result(response, stream=True)
                result.generations[0].message.usage_metadata = streamed.generations[0].message.usage_metadata
            return result

    return GeminiChat
