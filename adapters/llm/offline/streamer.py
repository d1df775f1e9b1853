"""A LangChain chat model that streams a text the offline writer already composed.

Going through BaseChatModel (rather than yielding strings) means LangGraph's "messages" stream,
the runner and LangGraph Studio see the offline answer exactly as they see Gemini's: chunk by chunk,
tagged with the node that produced it, with usage_metadata on the last chunk."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

PIECE = re.compile(r"\S+\s*|\s+")


def estimate_tokens(text: str) -> int:
    """A rough token count (no tokenizer offline): ~4 characters per token for Latin text and about
    one token per Hangul syllable pair."""
    hangul = sum(1 for c in text if "\uac00" <= c <= "\ud7a3")
    return max(1, hangul // 2 + (len(text) - hangul) // 4)


class TemplateStreamer(BaseChatModel):
    """Streams the content of the last message word by word. The prompt-side messages before it
    only count towards input usage."""

    model_name: str = "offline-template"

    @property
    def _llm_type(self) -> str:
        return "reppy-offline"

    def _generate(
        self, messages: list[BaseMessage], stop=None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any
    ) -> ChatResult:
        text = str(messages[-1].content)
        message = AIMessage(content=text, usage_metadata=self._usage(messages, text))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self, messages: list[BaseMessage], stop=None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages):
            if run_manager:
                run_manager.on_llm_new_token(str(chunk.message.content), chunk=chunk)
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop=None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages):
            if run_manager:
                await run_manager.on_llm_new_token(str(chunk.message.content), chunk=chunk)
            yield chunk

    def _chunks(self, messages: list[BaseMessage]) -> Iterator[ChatGenerationChunk]:
        text = str(messages[-1].content)
        pieces = PIECE.findall(text)
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content=piece,
                    usage_metadata=self._usage(messages, text) if last else None,
                    response_metadata={"finish_reason": "STOP", "model_name": self.model_name} if last else {},
                )
            )

    def _usage(self, messages: list[BaseMessage], text: str) -> dict[str, int]:
        prompt = sum(estimate_tokens(str(m.content)) for m in messages[:-1])
        output = estimate_tokens(text)
        return {"input_tokens": prompt, "output_tokens": output, "total_tokens": prompt + output}
