"""How long ago a memory was said, in words ("3 weeks ago" / "3주 전"), so both providers can place a
fact in time: recent facts outweigh old ones, and "last week my knee hurt" reads as long past when
it was said months ago."""

from __future__ import annotations

from datetime import UTC, datetime

# (days up to, unit size in days, English unit, Korean unit)
UNITS = [(7, 1, "day", "일"), (30, 7, "week", "주"), (365, 30, "month", "개월"), (None, 365, "year", "년")]


def said_at(memory: dict) -> str | None:
    """When the fact was last said (restated facts are updated in place)."""
    return memory.get("updated_at") or memory.get("created_at")


def said_ago(when: str | None, korean: bool, now: datetime | None = None) -> str | None:
    """'today', 'yesterday', '3 days ago', '3 weeks ago', '2 months ago', '1 year ago' (or in
    Korean: 오늘, 어제, 3일 전, 3주 전, …); None when the time is unknown."""
    if not when:
        return None
    try:
        then = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
    except ValueError:
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    days = max(0, ((now or datetime.now(UTC)) - then).days)
    if days == 0:
        return "오늘" if korean else "today"
    if days == 1:
        return "어제" if korean else "yesterday"
    for limit, size, english, hangul in UNITS:
        if limit is None or days < limit:
            n = max(1, days // size)
            return f"{n}{hangul} 전" if korean else f"{n} {english}{'s' if n > 1 else ''} ago"
    return None  # unreachable: the last unit has no limit
