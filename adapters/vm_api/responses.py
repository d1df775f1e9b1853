"""The VM Internal API's answers, typed. The product spec shows `...` in every body, so each model names the
fields the worker relies on and lets the rest through untouched (extra="allow"): a VM that adds a
column never breaks the worker, a VM that drops one the worker needs fails clearly.

What the product spec itself shows is all that is required: a routine's `routine_name` and `routine_order`
and its plans' `exercise_code`; a catalog item's `exercise_code`. Everything else may be missing:
names become the code made readable, numbers the VM did not send (or sent unreadable) are unknown
(`None`, shown as "?"), and a count sent as `3.0` is 3."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError

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
    training_days_per_week: Annotated[int | None, BeforeValidator(_count)] = Field(default=None, le=7)
    equipment: list[str] | None = None


def _amount(value: Any) -> int | float | None:
    """A non-negative number (70, 72.5, "72.5"), a whole one as an int; else unknown."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    return int(value) if float(value).is_integer() else value


def _count(value: Any) -> int | None:
    """A whole, non-negative number (3, 3.0, "3"); else unknown."""
    amount = _amount(value)
    return amount if isinstance(amount, int) else None


Count = Annotated[int | None, BeforeValidator(_count)]
Amount = Annotated[int | float | None, BeforeValidator(_amount)]


class PlanEntry(_Open):
    exercise_code: str = Field(min_length=1)
    sets: Count = None
    reps: Count = None
    weight_kg: Amount = None


class ActiveRoutine(_Open):
    routine_name: str
    routine_order: int  # 1.0 is read as 1
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
