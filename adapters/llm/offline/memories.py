"""Offline memory extraction: the durable facts a user states about themselves (injuries, goals,
preferences, equipment, schedule), found by simple rules in Korean and English.

A message is cut into clauses (sentences, commas, Korean "-는데 / -어서" connectives); a clause is
kept when it states a fact of one of those kinds and is neither a question nor a request.
Neighbouring clauses of one kind in a sentence stay one fact ("I hurt my left knee last week, it
still hurts when I squat": the second half alone would lose the knee). Korean connective endings
are turned back into a plain sentence ("무릎이 아픈데" → "무릎이 아파요"), so the stored memory
reads well when it is quoted back later.

Consolidation against the user's known memories (`consolidate`) compares embeddings: a fact close
to a known one restates it (nothing to do, or an update in place when it says more), and a fact
that says an earlier one stopped being true ("다 나았어", "no longer") retires its closest match.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from core.schemas import MemoryEdit, MemoryNotes

MAX_FACTS = 5
MIN_CHARS, MAX_CHARS = 4, 200

FACT_CUES = {
    # First: "my knee doesn't hurt anymore" is news about an injury, not an injury.
    "change": r"나았|괜찮아졌|이제.{0,12}괜찮|안 아파|더 이상|\bhealed\b|\bno longer\b|\banymore\b|\brecovered\b",
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
_KINDS = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in FACT_CUES.items()}
CHANGE = _KINDS["change"]
# Query-to-query cosine of the shipped e5 model: restatements score ~0.95–0.99 ("주 3회" / "주 4회
# 운동해요" 0.96), related facts ~0.85–0.92 ("무릎 다 나았어" its knee injury 0.92, but "허리
# 디스크가 있어요" 0.87 too): news of a change retires the closest fact that shares a word with it.
SAME_FACT = 0.95
RETIRES = 0.85
COMMON_WORDS = frozenset({"have", "been", "still", "that", "this", "with", "when", "what", "from"})
CHANGE_WORDS = "이제 괜찮아 나았어 healed longer anymore recovered"  # their stems say "changed", not what

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
        clauses = _clauses(sentence)
        asked = sentence.rstrip().endswith(("?", "？"))
        run: list[tuple[int, int]] = []  # neighbouring fact clauses of one kind: one fact
        kind = None
        for position, (start, end) in enumerate(clauses):
            # In "I hurt my knee, can I squat?" only the last clause carries the question.
            this = None if asked and position == len(clauses) - 1 else _kind(sentence[start:end])
            if this is not None and this == kind:
                run.append((start, end))
                continue
            _keep(facts, sentence, run)
            run, kind = ([(start, end)], this) if this is not None else ([], None)
        _keep(facts, sentence, run)
    return facts[:MAX_FACTS]


def consolidate(
    facts: list[str], known: list[dict], similarity: Callable[[list[str], list[str]], np.ndarray]
) -> MemoryNotes:
    """Per fact: new (save), a restatement of a known memory (nothing, or an update in place when it
    says more), or news that a known memory stopped being true (retire the closest it names)."""
    notes = MemoryNotes()
    scores = similarity(facts, [m["text"] for m in known]) if facts and known else np.zeros((len(facts), 0))
    for fact, row in zip(facts, scores, strict=True):
        if CHANGE.search(fact):
            about = _stems(fact) - CHANGE_STEMS
            named = [i for i, m in enumerate(known) if row[i] >= RETIRES and about & _stems(m["text"])]
            if named:
                target = known[max(named, key=lambda i: row[i])]["id"]
                if target not in notes.memories_to_retire:
                    notes.memories_to_retire.append(target)
            continue
        best = int(np.argmax(row)) if len(row) else None
        if best is not None and row[best] >= SAME_FACT:
            if not set(_words(fact)) <= set(_words(known[best]["text"])):  # it says more: keep it whole
                notes.memories_to_update.append(MemoryEdit(id=known[best]["id"], text=fact))
            continue
        notes.memories_to_save.append(fact)
    return notes


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _stems(text: str) -> frozenset[str]:
    """Content words, roughly: Korean words by their first two syllables (무릎을 → 무릎), other
    words of four letters or more by their first four (knees → knee), common ones left out."""
    stems = set()
    for word in _words(text):
        if "\uac00" <= word[0] <= "\ud7a3":
            if len(word) >= 2:
                stems.add(word[:2])
        elif len(word) >= 4 and word not in COMMON_WORDS:
            stems.add(word[:4])
    return frozenset(stems)


CHANGE_STEMS = _stems(CHANGE_WORDS)


def _clauses(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of each clause, separators left out."""
    spans, start = [], 0
    for cut in _CLAUSES.finditer(sentence):
        spans.append((start, cut.start()))
        start = cut.end()
    spans.append((start, len(sentence)))
    return [(a, b) for a, b in spans if sentence[a:b].strip()]


def _kind(clause: str) -> str | None:
    text = clause.strip().rstrip(".!。！~ ").strip()
    if NOT_A_FACT.search(text) or REQUEST.search(text) or QUESTION.search(text):
        return None
    return next((kind for kind, cue in _KINDS.items() if cue.search(text)), None)


def _keep(facts: list[str], sentence: str, run: list[tuple[int, int]]) -> None:
    if not run:
        return
    text = sentence[run[0][0] : run[-1][1]].strip().rstrip(".!。！~ ").strip()
    if MIN_CHARS <= len(text) <= MAX_CHARS:
        fact = _plain_korean(text)
        if fact.casefold() not in (f.casefold() for f in facts):
            facts.append(fact)


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
