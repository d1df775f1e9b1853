"""The Gemini model provider: the real `langchain-google-genai` client, flash for routing and
planning, pro for answers, programs and routine updates. langchain-google-genai is imported only
when the provider is built, so offline runs never pay for it."""

from adapters.llm.gemini.config import GeminiConfig
from adapters.llm.gemini.provider import GeminiProvider

__all__ = ["GeminiConfig", "GeminiProvider"]
