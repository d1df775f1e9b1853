"""Typed model outputs. Both providers return these; Gemini gets their JSON schema for structured
output, the offline provider builds them from the real context. They land in the result's `final`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Intent = Literal["CHAT_RESPONSE", "GENERATE_ROUTINE", "UPDATE_ROUTINE", "CLARIFY"]
# The catalog's own codes (main_muscle_code, equipment); a pull-up bar is equipment a home may lack.
Muscle = Literal["CHEST", "BACK", "LEGS", "SHOULDERS", "ARMS", "CORE", "GLUTES"]
Equipment = Literal["BARBELL", "DUMBBELL", "CABLE", "MACHINE", "BODYWEIGHT", "PULL_UP_BAR"]
Goal = Literal["HYPERTROPHY", "STRENGTH", "FAT_LOSS", "GENERAL_FITNESS"]
Level = Literal["BEGINNER", "INTERMEDIATE", "ADVANCED"]
# Sets per exercise by experience (the generate_program prompt says the same): volume follows level.
SET_RANGE = {"BEGINNER": (2, 3), "INTERMEDIATE": (3, 4), "ADVANCED": (4, 5)}
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


class Injury(BaseModel):
    area: str = Field(description="the hurt body part as the user named it, e.g. 'left knee', '어깨'")
    muscles: list[Muscle] = Field(
        default_factory=list, description="catalog muscle codes whose exercises load that area (knee → LEGS)"
    )


class UserAsk(BaseModel):
    """What the user asked of a program or an update, only as stated in the conversation: a value
    not stated is null (the profile fills it in later), never guessed."""

    days_per_week: int | None = Field(default=None, ge=1, le=7)
    weeks: int | None = Field(default=None, ge=1, le=52)
    goal: Goal | None = None
    level: Level | None = None
    split: Literal["FULL_BODY", "SPLIT"] | None = Field(default=None, description="full body every day, or a split")
    equipment: list[Equipment] | None = Field(default=None, description="the only equipment, when the user limited it")
    excluded_equipment: list[Equipment] = Field(default_factory=list, description="equipment the user ruled out")
    injuries: list[Injury] = Field(default_factory=list, description="pain or injuries the user mentions")

    @model_validator(mode="wrap")
    @classmethod
    def _unreadable_is_unstated(cls, data: Any, handler: Any) -> Any:
        """A value outside the schema's terms (0 days, an unknown goal) counts as not stated: one odd
        field of the router's reading must not cost the user the route."""
        try:
            return handler(data)
        except ValidationError as exc:
            if not isinstance(data, dict):
                raise
            bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
            return handler({k: v for k, v in data.items() if k not in bad})

    def resolved(self, profile: dict) -> ResolvedAsk:
        """The request completed from the profile, then from cautious defaults."""
        equipment = self.equipment or profile.get("equipment") or ["BODYWEIGHT", "DUMBBELL"]
        equipment = [e for e in equipment if e not in self.excluded_equipment] or ["BODYWEIGHT"]
        return ResolvedAsk(
            days_per_week=self.days_per_week or max(1, min(7, int(profile.get("training_days_per_week") or 3))),
            weeks=self.weeks or 4,
            goal=self.goal or profile.get("goal") or "GENERAL_FITNESS",
            level=self.level or profile.get("experience_level") or "BEGINNER",
            equipment=tuple(equipment),
            split=self.split,
        )


class ResolvedAsk(BaseModel):
    days_per_week: int
    weeks: int
    goal: str
    level: str
    equipment: tuple[str, ...]
    split: str | None = None


AVOIDED = "injuries or pain (from the conversation or memory) this works around, with the muscle codes it spares"


class RouteDecision(BaseModel):
    intent: Intent
    confidence: float = Field(ge=0.0, le=1.0)
    reason: str = Field(default="", description="one short sentence: why this intent")
    search_terms: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="exercise names the message mentions, as written (used to look them up)",
    )
    asked: UserAsk = Field(default_factory=UserAsk, description="what the user asked of a new program or a change")


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
    avoided: list[Injury] = Field(default_factory=list, description=AVOIDED)


class RoutinePlanItem(PlanItem):
    """A plan of a routine the user already has: the VM may not know its sets or reps, and the
    worker keeps what it does not change as it was."""

    sets: int | None = Field(default=None, ge=0)
    reps: int | None = Field(default=None, ge=0)


class UpdatedRoutine(Routine):
    plans: list[RoutinePlanItem] = Field(default_factory=list)


class RoutineChange(BaseModel):
    # "move": an exercise to another place in the routine (field position, 1-based), or the
    # routine itself to another place among the routines (field routine_order, exercise_code "").
    op: Literal["swap", "add", "remove", "modify", "move"]
    exercise_code: str = ""
    new_exercise_code: str | None = None
    field: Literal["sets", "reps", "weight_kg", "position", "routine_order"] | None = None
    before: float | int | None = None
    after: float | int | None = None


class RoutineUpdate(BaseModel):
    routine_name: str
    routine_order: int = Field(ge=1)
    changes: list[RoutineChange] = Field(min_length=1)
    updated_routine: UpdatedRoutine
    summary: str
    avoided: list[Injury] = Field(default_factory=list, description=AVOIDED)
