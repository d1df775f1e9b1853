"""Offline memory extraction: the durable facts a user states about themselves (injuries, goals,
preferences, equipment, schedule), found by simple rules in Korean and English.

A message is cut into clauses (sentences, commas, Korean "-는데 / -어서" connectives); a clause is
kept when it states a fact of one of those kinds and is neither a question nor a request. Korean
connective endings are turned back into a plain sentence ("무릎이 아픈데" → "무릎이 아파요"), so the
stored memory reads well when it is quoted back later.
"""

from __future__ import annotations

import re

MAX_FACTS = 5
MIN_CHARS, MAX_CHARS = 4, 200

FACT_CUES = {
    "injury": r"다쳤|다친|다쳐|부상|통증|아파|아프|아픈|삐었|삐끗|수술|디스크|관절염|염증|"
    r"\bpain|\bhurt|injur|sprain|surgery|tendinitis|tendonitis|\bstrain|dislocat|arthritis|"
    r"\bbad (knee|back|shoulder)",
    "goal": r"목표|싶어|싶은|싶습니다|감량|벌크|대회|마라톤|바디프로필|"
    r"\bgoal|\bwant to\b|\bwanna\b|\btrying to\b|\baim(ing)? to\b|\bhoping to\b|marathon|competition",
    "preference": r"좋아해|좋아하|좋아요|싫어|선호|재미없|지루|"
    r"\bprefer|\bhate\b|\blove\b|\benjoy|\bdon'?t like|\bdo not like|can'?t stand|\bbored",
    "equipment": r"집에서|홈트|홈짐|덤벨만|바벨 ?없|헬스장|장비|철봉|밴드|케틀벨|"
    r"\bhome gym|\bat home\b|\bonly have\b|\bno barbell|\bno gym|\bgym membership|kettlebell|"
    r"resistance band|pull-?up bar",
    "schedule": r"주 ?\d ?[회번일]|일주일에|매주|평일|주말|아침|저녁|새벽|퇴근|출근|분밖에|시간밖에|"
    r"\b\d+ (times|days) (a|per) week|\bweekdays?\b|\bweekends?\b|\bmornings?\b|\bevenings?\b|"
    r"\bafter work\b|\bbefore work\b|\bonly have \d+ ?min",
}
_FACT = re.compile("|".join(f"(?:{p})" for p in FACT_CUES.values()), re.IGNORECASE)

# Passing states (DOMS, a tired day) and wishes to be told something: not facts worth keeping.
NOT_A_FACT = re.compile(
    r"근육통|피곤|졸려|알고 싶|궁금|\bsore\b|soreness|\bdoms\b|\btired\b|"
    r"\bwant to (know|ask|learn|see|check|understand|try)\b",
    re.IGNORECASE,
)
REQUEST = re.compile(
    r"(줘|줄래|주세요|주실래요|해주라|짜줘|만들어|바꿔|알려|추천해)\s*$|"
    r"^(please|can you|could you|would you|make|give|show|tell|change|swap|create|build)\b|\bplease\b",
    re.IGNORECASE,
)
QUESTION = re.compile(
    r"(까|니|나요|가요|어때|어떨까|될까|되나|돼|할까|뭐야|뭘까|궁금해)\s*$|"
    r"^(what|how|which|why|when|where|should|can|could|is|are|do|does|will|would)\b",
    re.IGNORECASE,
)
# Sentence ends; commas and semicolons; Korean connectives that end a clause ("아픈데 ", "아파서 ").
_SENTENCES = re.compile(r"(?<=[.!?。！？])\s+|\n+")
_CLAUSES = re.compile(r"\s*[,;]\s+|(?<=[\uac00-\ud7a3]데)\s+|(?<!에서)(?<=[\uac00-\ud7a3]서)\s+")


def extract_memories(message: str) -> list[str]:
    facts: list[str] = []
    for sentence in _SENTENCES.split(message.strip()):
        clauses = [c for c in _CLAUSES.split(sentence) if c.strip()]
        asked = sentence.rstrip().endswith(("?", "？"))
        for position, clause in enumerate(clauses):
            # In "I hurt my knee, can I squat?" only the last clause carries the question.
            if asked and position == len(clauses) - 1:
                continue
            fact = _as_fact(clause)
            if fact and fact.casefold() not in (f.casefold() for f in facts):
                facts.append(fact)
    return facts[:MAX_FACTS]


def _as_fact(clause: str) -> str | None:
    text = clause.strip().rstrip(".!。！~ ").strip()
    if not (MIN_CHARS <= len(text) <= MAX_CHARS):
        return None
    if not _FACT.search(text) or NOT_A_FACT.search(text) or REQUEST.search(text) or QUESTION.search(text):
        return None
    return _plain_korean(text)


def _plain_korean(text: str) -> str:
    """A clause cut at a Korean connective, ended as a polite statement instead."""
    if text.endswith("픈데"):  # 아픈데 → 아파요 (the ㅡ of 아프- drops)
        return text[:-2] + "파요"
    if text.endswith("인데"):
        return text[:-2] + "이에요"
    if text.endswith(("는데", "은데")):
        stem = text[:-2]
        if stem.endswith("하"):
            return stem[:-1] + "해요"
        return stem + ("아요" if _bright(stem[-1]) else "어요")
    if re.search(r"[\uac00-\ud7a3]서$", text) and not text.endswith("에서"):
        return text[:-1] + "요"  # 아파서 → 아파요, 있어서 → 있어요
    return text


def _bright(syllable: str) -> bool:
    """Korean vowel harmony: stems whose last vowel is ㅏ or ㅗ take -아요 (좋아요, 많아요)."""
    code = ord(syllable) - 0xAC00
    if not 0 <= code < 11172:
        return False
    return (code // 28) % 21 in (0, 8)  # ㅏ, ㅗ
