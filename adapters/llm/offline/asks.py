"""The offline router's reading of what the user asked (the typed `UserAsk` Gemini fills in
production): days per week, weeks, goal, equipment, level, full body or split, and the body areas
that hurt, from their words in Korean or English. Only what the user said is read, never guessed.

A short reply ("좋아, 그렇게 짜줘") takes what the coach proposed and the user said in the turns just
before it; the latest turn that states a value wins."""

from __future__ import annotations

import re

from core.schemas import Injury, UserAsk

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
SPLIT = [
    ("FULL_BODY", re.compile(r"전신|무분할|full[\s-]*body", _I)),
    ("SPLIT", re.compile(r"분할|상하체|split|push[\s/-]*pull|\bppl\b|upper[\s/-]*lower", _I)),
]
PULL_UP_BAR = re.compile(r"철봉|턱걸이\s*바|pull[\s-]*up\s*bar|chin[\s-]*up\s*bar", _I)
# A hurt body part: its words, and the catalog muscle codes whose exercises load it.
PAIN = re.compile(r"아파|아프|아픈|통증|부상|다쳤|다친|삐었|디스크|hurt|pain|injur|strain|tweak", _I)
AREAS = [
    ("어깨 shoulder", ["SHOULDERS"]),
    ("무릎 발목 knee ankle", ["LEGS"]),
    ("허리 lower-back back 디스크", ["BACK"]),
    ("팔꿈치 손목 elbow wrist", ["ARMS"]),
    ("고관절 엉덩이 hip", ["GLUTES", "LEGS"]),
    ("가슴 chest", ["CHEST"]),
]


def read_ask(conversation: list[dict[str, str]]) -> UserAsk:
    """What the recent turns asked for, newest first: the last message, then up to LOOKBACK_TURNS
    turns before it, each value taken from the newest turn that states it. Injuries only from
    what the user said."""
    ask: dict = {}
    for turn in reversed(conversation[-LOOKBACK_TURNS:]):
        _read_turn(turn.get("content") or "", ask)
    users = [t.get("content") or "" for t in conversation[-LOOKBACK_TURNS:] if t.get("role") == "user"]
    return UserAsk(**ask, injuries=read_injuries(users))


def read_injuries(texts: list[str]) -> list[Injury]:
    """Each body area a text says hurts (a sentence naming both the area and pain)."""
    found: dict[str, Injury] = {}
    for sentence in (s for text in texts for s in re.split(r"[.!?\n]|[,]\s*(?:and|그리고)?", text)):
        if not PAIN.search(sentence):
            continue
        for words, muscles in AREAS:
            area = next((w for w in words.split() if w.replace("-", " ") in sentence.lower()), None)
            if area and words not in found:
                found[words] = Injury(area=area.replace("-", " "), muscles=muscles)
    return list(found.values())


def _read_turn(text: str, ask: dict) -> None:
    values = {
        "days_per_week": _days(text),
        "weeks": _weeks(text),
        "goal": next((g for g, p in GOALS if p.search(text)), None),
        "equipment": next((list(e) for e, p in EQUIPMENT_ONLY if p.search(text)), None),
        "level": next((lv for lv, p in LEVELS if p.search(text)), None),
        "split": next((s for s, p in SPLIT if p.search(text)), None),
        "excluded_equipment": [e for e, p in EQUIPMENT_WITHOUT.items() if p.search(text)] or None,
    }
    if values["equipment"] and PULL_UP_BAR.search(text):
        values["equipment"].append("PULL_UP_BAR")
    for name, value in values.items():
        if value is not None and name not in ask:
            ask[name] = value


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
