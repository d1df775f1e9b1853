"""The VM Internal API's answers, typed. The product spec shows `...` in every body, so each model names the
fields the worker relies on and lets the rest through untouched (extra="allow"): a VM that adds a
column never breaks the worker, a VM that drops one the worker needs fails clearly."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from core.errors import VMUnavailable


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ClaimAnswer(_Open):
    # Strict: "false" or 0 must not be read as a decision about whether to process a request.
    claimed: StrictBool


class Profile(_Open):
    username: str | None = None
    experience_level: str | None = None
    goal: str | None = None
    training_days_per_week: int | None = Field(default=None, ge=0, le=7)
    equipment: list[str] | None = None


class PlanEntry(_Open):
    exercise_code: str = Field(min_length=1)
    sets: int = Field(ge=0)
    reps: int = Field(ge=0)
    weight_kg: int | float | None = Field(default=None, ge=0)


class ActiveRoutine(_Open):
    routine_name: str
    routine_order: int
    plans: list[PlanEntry] = Field(default_factory=list)


class ActiveRoutines(_Open):
    routines: list[ActiveRoutine]


class CatalogItem(_Open):
    exercise_code: str = Field(min_length=1)
    main_muscle_code: str | None = None


class CatalogPage(_Open):
    items: list[CatalogItem]


def parse(model: type[_Open], body: Any, endpoint: str) -> _Open:
    """The body as `model`, or VMUnavailable naming the endpoint and the fields at fault (never
    their values: they may be private)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)[:5]
        )
        raise VMUnavailable(f"VM API {endpoint} answered an unexpected shape ({problems})", retryable=False) from None


def plain(model: _Open) -> dict[str, Any]:
    """Back to the plain dict the graph carries, with exactly the fields the VM sent."""
    return model.model_dump(exclude_unset=True)
