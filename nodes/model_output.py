"""What the nodes do with a model's typed output: fall back when it did not parse, refuse it when
the node's checks find problems."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from adapters.llm.base import Generated
from core.errors import LLMMalformedOutput

T = TypeVar("T")

log = logging.getLogger("reppy.nodes")


async def parsed(call: Awaitable[Generated[T]], step: str) -> tuple[Generated[T] | None, dict[str, Any]]:
    """The step's output, or None when the model's answer did not parse (logged), with the state
    update for its usage: the unusable call still cost."""
    try:
        return await call, {}
    except LLMMalformedOutput as exc:
        log.warning("%s output unusable: %s", step, exc.message)
        return None, ({"usage": list(exc.usage)} if exc.usage else {})


def accepted(problems: list[str], action: str, final: dict[str, Any], generated: Generated) -> dict[str, Any]:
    """The result of a checked model output; LLMMalformedOutput naming every problem if it has any."""
    if problems:
        raise LLMMalformedOutput("; ".join(problems))
    return {"final": final, "action": action, "status": "SUCCEEDED", "usage": generated.usage}
