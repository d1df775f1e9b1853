"""The messages each Gemini call sends, rendered from prompts/*.yaml (the files the offline provider
reads too) and the shared context views. The loader has already checked that every user template
uses exactly the variables filled here."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from adapters.llm.context_view import (
    render_catalog,
    render_conversation,
    render_json,
    render_memory,
    render_routines,
)
from adapters.llm.memory_age import said_ago, said_at
from adapters.prompts import Prompts, PromptSpec

# The router prompt shows this many labelled examples per intent (all of them feed the offline
# router; a handful per intent is enough for Gemini and keeps the flash prompt small).
EXAMPLES_PER_INTENT = 4


def route_messages(prompts: Prompts, conversation: list[dict[str, str]]) -> list[BaseMessage]:
    spec = prompts.action_routing
    shown: dict[str, int] = {}
    lines = []
    for example in prompts.routing_examples():
        if shown.get(example.intent, 0) >= EXAMPLES_PER_INTENT:
            continue
        shown[example.intent] = shown.get(example.intent, 0) + 1
        before = "; ".join(f"{t.get('role')}: {t.get('content')}" for t in example.history)
        lines.append(
            f"- {f'(after {before}) ' if before else ''}{json.dumps(example.message, ensure_ascii=False)}"
            f" → {example.intent}"
        )
    return _messages(
        spec, "Examples (message → intent):\n" + "\n".join(lines), conversation=render_conversation(conversation)
    )


def plan_messages(prompts: Prompts, conversation: list[dict[str, str]]) -> list[BaseMessage]:
    spec = prompts.chat_planner
    lines = [
        f"- {json.dumps(e.get('message'), ensure_ascii=False)} → {json.dumps(e.get('plan'), ensure_ascii=False)}"
        for e in spec.examples
    ]
    return _messages(
        spec,
        "Examples (message → plan):\n" + "\n".join(lines) if lines else None,
        conversation=render_conversation(conversation),
    )


def chat_messages(prompts: Prompts, conversation: list[dict[str, str]], context: dict[str, Any]) -> list[BaseMessage]:
    degraded = context.get("degraded") or []
    return _messages(
        prompts.chat_response,
        None,
        conversation=render_conversation(conversation),
        profile=render_json(context.get("profile")),
        routines=render_routines(context.get("active_routines") or []),
        memory=render_memory(context.get("user_memory") or []),
        catalog=render_catalog(context.get("exercise_catalog") or []),
        degraded=", ".join(degraded) if degraded else "none",
    )


def program_messages(
    prompts: Prompts, conversation: list[dict[str, str]], context: dict[str, Any]
) -> list[BaseMessage]:
    return _messages(
        prompts.generate_program,
        None,
        conversation=render_conversation(conversation),
        profile=render_json(context.get("profile")),
        routines=render_routines(context.get("active_routines") or []),
        memory=render_memory(context.get("user_memory") or []),
        catalog=render_catalog(context.get("exercise_catalog") or []),
        asked=render_json(context.get("asked")),
    )


def update_messages(prompts: Prompts, conversation: list[dict[str, str]], context: dict[str, Any]) -> list[BaseMessage]:
    return _messages(
        prompts.update_routine,
        None,
        conversation=render_conversation(conversation),
        routines=render_routines(context.get("active_routines") or []),
        catalog=render_catalog(context.get("exercise_catalog") or []),
        memory=render_memory(context.get("user_memory") or []),
        asked=render_json(context.get("asked")),
    )


def memory_messages(
    prompts: Prompts, conversation: list[dict[str, str]], known: list[dict[str, Any]], noted: list[str] | None
) -> list[BaseMessage]:
    """`known` is shown with short ids ("1", "2", …: the provider maps them back), as models copy a
    short number far more reliably than a UUID."""
    spec = prompts.memory_extraction
    lines = [
        f"- {json.dumps(e.get('message'), ensure_ascii=False)} with known {json.dumps(e.get('known'), ensure_ascii=False)}"
        f" → {json.dumps(e.get('decision'), ensure_ascii=False)}"
        for e in spec.examples
    ]
    shown = [f"- {n}: ({said_ago(said_at(m), False) or 'unknown'}) {m['text']}" for n, m in enumerate(known, start=1)]
    return _messages(
        spec,
        "Examples (message, known memories → decision):\n" + "\n".join(lines) if lines else None,
        conversation=render_conversation(conversation),
        noted=render_json(noted) if noted else "(none given: find them in the last message)",
        known="\n".join(shown) or "(none)",
    )


def _messages(spec: PromptSpec, examples: str | None, **values: str) -> list[BaseMessage]:
    system = spec.system.strip()
    if examples:
        system += "\n\n" + examples
    if spec.output_schema:
        # The response schema is enforced by the API; the short shape here helps the model fill it well.
        system += "\n\nAnswer with one JSON object shaped like:\n" + spec.output_schema.strip()
    return [SystemMessage(system), HumanMessage(spec.render_user(**values))]
