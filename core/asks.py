"""What the user explicitly asked of a new program, read from their words in Korean or English:
days per week, weeks, goal, equipment and experience level.

Shared by the offline program writer (which builds to it) and the generate_routine node (which
checks any model's program against it), so only what the user actually said is read — never
guessed. A value not stated is None; the profile fills it in later.

A short reply ("좋아, 그렇게 짜줘") takes what the coach proposed and the user said in the turns just
before it; the latest turn that states a value wins."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_I = re.IGNORECASE
LOOKBACK_TURNS = 4  # the reply, the coach's proposal, and the request it answered

NATIVE_KO = {"한": 1, "두": 2, "세": 3, "석": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7}
WORDS_EN = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "ten": 10,
    "twelve": 12,
}
_NUM = r"(\d{1,2}|" + "|".join(WORDS_EN) + r")"
_NUM_KO = r"(\d|" + "|".join(NATIVE_KO) + r")"

DAYS = [
    re.compile(r"주\s*" + _NUM_KO + r"\s*(?:회|일|번|날)", _I),
    re.compile(r"일주일에\s*" + _NUM_KO + r"\s*(?:회|일|번|날)", _I),
    re.compile(r"(\d)\s*일\s*(?:분할|루틴|프로그램|split)", _I),
    re.compile(r"(\d)\s*분할", _I),
    re.compile(_NUM + r"\s*(?:x|times|days?)\s*(?:a|per|/)\s*(?:week|wk)", _I),
    re.compile(_NUM + r"\s*-?\s*days?\b(?!\s*(?:a|per)\s*month)", _I),
]
TWICE = re.compile(r"\btwice\s+(?:a|per)\s+week\b", _I)
WEEKS = [
    re.compile(r"(?<!주\s)(?<!주)(\d{1,2})\s*주(?:짜리|간|동안|\s*프로그램|\s*루틴|\s*계획|\b|$|[^0-9회일번날])", _I),
    re.compile(_NUM + r"\s*-?\s*(?:weeks?|wks?)\b", _I),
]
MONTHS = [
    re.compile(r"(\d{1,2})\s*개월", _I),
    re.compile(r"(한|두|세|석)\s*달", _I),
    re.compile(_NUM + r"\s*-?\s*months?\b", _I),
    re.compile(r"\ba\s+month\b", _I),
]
GOALS = [
    (
        "FAT_LOSS",
        re.compile(
            r"다이어트|감량|체지방|살\s*빼|커팅|컷팅|fat\s*loss|lose\s*(?:weight|fat)|\bcut(?:ting)?\b|"
            r"shred|lean(?:ing)?\s*out",
            _I,
        ),
    ),
    ("STRENGTH", re.compile(r"근력|스트렝스|파워|힘\s*키|5x5|strength|power(?:lifting)?|stronger", _I)),
    (
        "HYPERTROPHY",
        re.compile(
            r"근비대|벌크|근육\s*(?:키|늘|량)|보디빌딩|hypertroph|bulk|muscle\s*(?:gain|growth|building)|"
            r"build(?:ing)?\s*muscle|\bsize\b|\bmass\b",
            _I,
        ),
    ),
    ("GENERAL_FITNESS", re.compile(r"체력|건강|general\s*fitness|\bfitness\b|\bhealth", _I)),
]
# Equipment: the most specific statement wins (top first).
EQUIPMENT_ONLY = [
    (
        ("BODYWEIGHT",),
        re.compile(
            r"맨몸으로만|맨몸만|기구\s*없이|장비\s*없이|no\s*equipment|bodyweight[\s-]*only|"
            r"only\s*bodyweight|calisthenics",
            _I,
        ),
    ),
    (
        ("DUMBBELL", "BODYWEIGHT"),
        re.compile(
            r"덤벨(?:로)?만|덤벨밖에|덤벨\s*뿐|dumbbells?\s*only|only\s*(?:have\s*)?"
            r"dumbbells?|just\s*(?:a\s*pair\s*of\s*)?dumbbells?",
            _I,
        ),
    ),
    (("BODYWEIGHT",), re.compile(r"맨몸|bodyweight", _I)),
    (("BODYWEIGHT", "DUMBBELL"), re.compile(r"홈트|집에서|home\s*workout|at\s*home|\bhome\b", _I)),
]
EQUIPMENT_WITHOUT = {
    "BARBELL": re.compile(r"바벨\s*(?:없이|말고|빼고)|no\s*barbell|without\s*(?:a\s*)?barbell", _I),
    "MACHINE": re.compile(r"머신\s*(?:없이|말고|빼고)|no\s*machines?|without\s*machines?", _I),
    "CABLE": re.compile(r"케이블\s*(?:없이|말고|빼고)|no\s*cables?|without\s*cables?", _I),
}
LEVELS = [
    # "처음부터" is "from scratch"; "헬스 처음이에요" is a beginner.
    (
        "BEGINNER",
        re.compile(
            r"초보|초급|입문|헬린이|(?:헬스|운동|웨이트)\s*처음|처음\s*(?:해|시작|이)|beginner|novice|"
            r"newbie|first\s*time|never\s*lifted",
            _I,
        ),
    ),
    ("INTERMEDIATE", re.compile(r"중급|intermediate", _I)),
    ("ADVANCED", re.compile(r"상급|고급|advanced|experienced", _I)),
]
# Sets per exercise by experience (the generate_program prompt says the same): volume follows level.
SET_RANGE = {"BEGINNER": (2, 3), "INTERMEDIATE": (3, 4), "ADVANCED": (4, 5)}


@dataclass
class ProgramAsk:
    days_per_week: int | None = None
    weeks: int | None = None
    goal: str | None = None
    equipment: tuple[str, ...] | None = None  # allowed equipment, when the user limited it
    excluded_equipment: tuple[str, ...] = ()
    level: str | None = None
    stated: dict[str, str] = field(default_factory=dict)  # value name → the turn's words that stated it

    def resolved(self, profile: dict) -> ResolvedAsk:
        """The request completed from the profile, then from cautious defaults."""
        equipment = self.equipment or tuple(profile.get("equipment") or ("BODYWEIGHT", "DUMBBELL"))
        equipment = tuple(e for e in equipment if e not in self.excluded_equipment) or ("BODYWEIGHT",)
        return ResolvedAsk(
            days_per_week=self.days_per_week or _clamp(profile.get("training_days_per_week") or 3, 1, 7),
            weeks=self.weeks or 4,
            goal=self.goal or profile.get("goal") or "GENERAL_FITNESS",
            equipment=equipment,
            level=self.level or profile.get("experience_level") or "BEGINNER",
        )


@dataclass(frozen=True)
class ResolvedAsk:
    days_per_week: int
    weeks: int
    goal: str
    equipment: tuple[str, ...]
    level: str


def read_program_ask(conversation: list[dict[str, str]]) -> ProgramAsk:
    """What the recent turns asked for, newest first: the last message, then up to LOOKBACK_TURNS
    turns before it, each value taken from the newest turn that states it."""
    ask = ProgramAsk()
    for turn in reversed(conversation[-LOOKBACK_TURNS:]):
        _read_turn(turn.get("content") or "", ask)
    return ask


def _read_turn(text: str, ask: ProgramAsk) -> None:
    if ask.days_per_week is None and (days := _days(text)) is not None:
        ask.days_per_week, ask.stated["days_per_week"] = days, text
    if ask.weeks is None and (weeks := _weeks(text)) is not None:
        ask.weeks, ask.stated["weeks"] = weeks, text
    if ask.goal is None and (goal := next((g for g, p in GOALS if p.search(text)), None)):
        ask.goal, ask.stated["goal"] = goal, text
    if ask.equipment is None and (only := next((e for e, p in EQUIPMENT_ONLY if p.search(text)), None)):
        ask.equipment, ask.stated["equipment"] = only, text
    excluded = tuple(e for e, p in EQUIPMENT_WITHOUT.items() if p.search(text))
    if excluded and not ask.excluded_equipment:
        ask.excluded_equipment = excluded
    if ask.level is None and (level := next((lv for lv, p in LEVELS if p.search(text)), None)):
        ask.level, ask.stated["level"] = level, text


def _number(token: str) -> int:
    token = token.lower()
    return int(token) if token.isdigit() else NATIVE_KO.get(token) or WORDS_EN[token]


def _days(text: str) -> int | None:
    if TWICE.search(text):
        return 2
    for pattern in DAYS:
        # The last statement in a turn: "주 7회 말고 주 5회로" means five.
        values = [v for m in pattern.finditer(text) if 1 <= (v := _number(m.group(1))) <= 7]
        if values:
            return values[-1]
    return None


def _weeks(text: str) -> int | None:
    for pattern in WEEKS:
        values = [v for m in pattern.finditer(text) if 1 <= (v := _number(m.group(1))) <= 52]
        if values:
            return values[-1]
    for pattern in MONTHS:
        if match := pattern.search(text):
            months = 1 if match.lastindex is None else _number_ko_or_en(match.group(1))
            if 1 <= months <= 12:
                return months * 4
    return None


def _number_ko_or_en(token: str) -> int:
    return {"석": 3}.get(token) or _number(token)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, int(value)))
