"""Typed model outputs. Both providers return these; Gemini gets their JSON schema for structured
output, the offline provider builds them from the real context. They land in the result's `final`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Intent = Literal["CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE", "CLARIFY"]
ContextSource = Literal["active_routines", "user_memory", "exercise_catalog", "profile"]
ChatAction = Literal["GET_ACTIVE_ROUTINES", "SEARCH_EXERCISES", "RECALL_MEMORY", "GENERAL_ADVICE"]
# Lenient on purpose (no length limits): a long or extra fact must not cost the user the plan; the
# remember node trims and caps what it stores.
MEMORIES_TO_SAVE = (
    "durable facts the user states about themselves in their last message, worth remembering in "
    "later conversations: injuries or pain, goals, likes and dislikes, equipment they have, when "
    "and how often they can train, and that an earlier fact stopped being true (an injury healed). "
    "One standalone sentence per fact, in the user's language, kept whole: a fact names what it is "
    'about ("I hurt my left knee last week, it still hurts when I squat" is one fact). '
    "Not questions, requests or passing moods. [] when there are none."
)


class RouteDecision(BaseModel):
    intent: Intent
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str = Field(default="", description="one short sentence: why this intent")
    search_terms: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="exercise names the message mentions, as written (used to look them up)",
    )


class ChatPlan(BaseModel):
    action: ChatAction
    required_context: list[ContextSource] = Field(default_factory=list)
    search_terms: list[str] = Field(
        default_factory=list, max_length=8, description="exercise or muscle names to look up"
    )
    memory_query: str | None = Field(default=None, description="what to recall about the user")
    memories_to_save: list[str] = Field(default_factory=list, description=MEMORIES_TO_SAVE)


class MemoryEdit(BaseModel):
    id: str = Field(description="the id of a known memory, as listed")
    text: str = Field(description="that memory as it should now read: one whole fact")


class MemoryNotes(BaseModel):
    """What the user's last message changes in their memory, against the known memories shown:
    new facts to add, known ones (by id) to rewrite or retire. A known fact merely restated is left
    out (nothing to do)."""

    memories_to_save: list[str] = Field(
        default_factory=list, description="new durable facts, not already known. " + MEMORIES_TO_SAVE
    )
    memories_to_update: list[MemoryEdit] = Field(
        default_factory=list, description="known memories the message refines or changes, rewritten whole"
    )
    memories_to_retire: list[str] = Field(
        default_factory=list, description="ids of known memories the message says are no longer true"
    )


class PlanItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    exercise_code: str
    exercise_name: str | None = None
    sets: int = Field(ge=1, le=20)
    reps: int = Field(ge=1, le=100)
    weight_kg: float | None = Field(default=None, ge=0)
    rest_seconds: int | None = Field(default=None, ge=0, le=900)


class Routine(BaseModel):
    model_config = ConfigDict(extra="allow")

    routine_name: str
    routine_order: int = Field(ge=1)
    plans: list[PlanItem] = Field(default_factory=list)


class Program(BaseModel):
    program_name: str
    goal: str
    weeks: int = Field(ge=1, le=52)
    days_per_week: int = Field(ge=1, le=7)
    experience_level: str
    routines: list[Routine] = Field(min_length=1, max_length=7)
    notes: str = ""


class RoutineChange(BaseModel):
    op: Literal["swap", "add", "remove", "modify"]
    exercise_code: str
    new_exercise_code: str | None = None
    field: Literal["sets", "reps", "weight_kg"] | None = None
    before: float | int | None = None
    after: float | int | None = None


class RoutineUpdate(BaseModel):
    routine_name: str
    routine_order: int = Field(ge=1)
    changes: list[RoutineChange] = Field(min_length=1)
    updated_routine: Routine
    summary: str
