"""Model providers: `offline` (deterministic, no network) and `gemini` (langchain-google-genai)."""
