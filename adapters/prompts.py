"""Loads and validates prompts/*.yaml once at start-up. A broken prompt file fails the start with a
message naming the file and the problem, never in the middle of a request."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError

# libyaml's loader where the wheel has it (the manylinux ones do): ~10x the pure-Python one, which
# spent ~50 ms of a cold start on these files.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Which placeholders each user template must carry: the providers fill exactly these.
REQUIRED_VARIABLES: dict[str, set[str]] = {
    "action_routing": {"conversation"},
    "chat_planner": {"conversation"},
    "chat_response": {"conversation", "profile", "routines", "memory", "catalog", "degraded"},
    "generate_program": {"conversation", "profile", "routines", "memory", "catalog", "asked"},
    "update_routine": {"conversation", "routines", "catalog", "memory", "asked"},
    "memory_extraction": {"conversation", "noted", "known"},
}

INTENTS = {"CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE", "CLARIFY"}


class PromptSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    model: Literal["router", "main"]
    description: str = ""
    system: str = Field(min_length=1)
    user: str = Field(min_length=1)
    output_schema: str | None = None
    examples: list[dict[str, Any]] = Field(default_factory=list)

    def variables(self) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(self.user) if field}

    def render_user(self, **values: str) -> str:
        return self.user.format(**values)


class RoutingExample(BaseModel):
    message: str = Field(min_length=1)
    intent: Literal["CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE", "CLARIFY"]
    history: list[dict[str, str]] = Field(default_factory=list)


@dataclass(frozen=True)
class Prompts:
    action_routing: PromptSpec
    chat_planner: PromptSpec
    chat_response: PromptSpec
    generate_program: PromptSpec
    update_routine: PromptSpec
    memory_extraction: PromptSpec

    def routing_examples(self) -> list[RoutingExample]:
        return list(self._routing_examples)

    @cached_property
    def _routing_examples(self) -> tuple[RoutingExample, ...]:
        # Once per process: the Gemini router renders them into every routing prompt (~250 of them).
        return tuple(RoutingExample.model_validate(e) for e in self.action_routing.examples)


def load_prompts(directory: Path) -> Prompts:
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(f"PROMPTS_DIR {directory} is not a directory")
    specs = {name: _load_one(directory / f"{name}.yaml", name) for name in REQUIRED_VARIABLES}
    _check_routing_examples(directory / "action_routing.yaml", specs["action_routing"])
    return Prompts(**specs)


def _load_one(path: Path, name: str) -> PromptSpec:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except FileNotFoundError:
        raise ConfigError(f"prompt file {path} is missing") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"prompt file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"prompt file {path} must hold a mapping")
    try:
        spec = PromptSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {'missing key' if e['type'] == 'missing' else e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise ConfigError(f"prompt file {path}: {problems}") from None
    try:
        found = spec.variables()
    except ValueError as exc:
        raise ConfigError(f"prompt file {path}: user template is malformed ({exc})") from None
    missing, unknown = REQUIRED_VARIABLES[name] - found, found - REQUIRED_VARIABLES[name]
    if missing or unknown:
        raise ConfigError(
            f"prompt file {path}: user template must use exactly {sorted(REQUIRED_VARIABLES[name])}"
            f" (missing {sorted(missing)}, unknown {sorted(unknown)})"
        )
    return spec


def _check_routing_examples(path: Path, spec: PromptSpec) -> None:
    try:
        labels = {RoutingExample.model_validate(e).intent for e in spec.examples}
    except ValidationError as exc:
        raise ConfigError(f"prompt file {path}: bad example ({exc.errors()[0]['msg']})") from None
    if labels != INTENTS:
        raise ConfigError(f"prompt file {path}: examples must cover every intent, missing {sorted(INTENTS - labels)}")
