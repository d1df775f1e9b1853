"""Small language helpers of the offline provider: term extraction in Korean and English."""

from __future__ import annotations

import re

HANGUL = re.compile(r"[\uac00-\ud7a3]")
WORD = re.compile(r"[0-9A-Za-z\uac00-\ud7a3]+(?:[-'][0-9A-Za-z\uac00-\ud7a3]+)*")

# Korean particles and endings stripped from the end of a word ("벤치프레스를" → "벤치프레스").
PARTICLES = sorted(
    (
        "하다가 하면서 하는데 하는 하기 할 에서는 에서 으로는 으로 로는 에게 한테 까지 부터 이랑 하고 대신 처럼 보다 이나 을 를 이 가 은 는 로 에 도 만 랑 와 과 의 요"
    ).split(),
    key=len,
    reverse=True,
)

STOPWORDS = set(
    "오늘 내일 어제 지금 요즘 뭐 뭘 무엇 무슨 어떤 어떻게 왜 언제 얼마나 몇 좀 잘 더 덜 꼭 그냥 진짜 너무 운동 루틴 프로그램 계획 오늘은 하루 주 회 세트 개 번 가지 "
    "정도 때 거 것 수 나 내 제 저 우리 너 당신 해 해야 해줘 해주세요 하고 하는 하면 하나 할 한 했 했어 했는데 돼 되 될 된 되나 되나요 돼요 좋아 좋은 좋을까 알려줘 "
    "알려주세요 알려 추천 추천해줘 바꿔 바꿔줘 바꿔주세요 바꾸고 교체 교체해줘 변경 변경해줘 넣어 넣어줘 추가 추가해줘 빼 빼줘 삭제 삭제해줘 제거 제거해줘 늘려 늘려줘 줄여 "
    "줄여줘 올려 올려줘 내려 내려줘 만들어 만들어줘 짜줘 짜 줘 주세요 싶어 싶은데 있어 있나 있어요 없어 없는데 같아 같은데 그리고 그래서 근데 하지만 맞아 어때 어때요 "
    "괜찮아 괜찮을까 아파 아파요 아픈데 자세 방법 팁 효과 먹어야 먹어 먹을 나의 저의 제가 내가 what which how why when should could would "
    "can do does did is are am be the a an to of in on at for with my me i you your it this that "
    "today tomorrow now please tell give show about some any much many train training workout routine "
    "program plan day days week weeks set sets rep reps replace swap change add remove drop instead "
    "into from and or but so good best 새 새로 새로운 무게 중량 횟수 근비대 근력 스트렝스 다이어트 감량 벌크업 컷팅 초보 초보자 중급 상급 전신 "
    "분할 new weight hypertrophy strength fat loss bulk cut beginner fix form full body split 응 웅 엉 ㅇㅇ "
    "ㅇㅋ 오키 오케이 콜 그래 그래요 네 넵 예 부탁 부탁해 부탁해요 고고 ㄱㄱ 좋아요 그럼 그러면 아니 그걸 그거 그것 그게 그렇게 이걸 이거 이것 저거 저걸 거 첫 두 번째 "
    "앞에 뒤에 전자 후자 고쳐줘 손봐줘 yes yeah yep yup sure ok okay please pls go ahead sounds just keep one first "
    "second those them tweak let lets want wants shall would like could might need 추가해 올리 내리 줄이 늘리 바꾸 "
    "게 마지막 처음 다음 부담 빼고 넣고 바꾸고 말고 추가하고 늘리고 줄이고 올리고 내리고 없애고 지우고 버려 빼버려 해주셈 ㄱㄱ lower raise increase "
    "decrease reduce bump put take get rid cut make set down more less heavier lighter out off by "
    "instead".split()
)

# Second words that finish an exercise name begun by the word before ("덤벨 프레스", "rack pulls").
NAME_TAILS = set(
    "프레스 컬 로우 레이즈 스쿼트 플라이 런지 풀다운 푸시다운 익스텐션 데드리프트 업 딥스 브릿지 쓰러스트 풀 크런치 press curl curls row rows raise "
    "raises squat squats fly flies lunge lunges pulldown pushdown extension extensions deadlift "
    "deadlifts up ups dip dips bridge thrust pull pulls crunch crunches thrusts presses pulldowns "
    "pushdowns flyes bridges".split()
)


def strip_particle(word: str) -> str:
    if not HANGUL.search(word):
        return word
    for particle in PARTICLES:
        if not word.endswith(particle):
            continue
        stem = word[: -len(particle)]
        # Short stems only when they are known words ("컬을" → "컬", "수를" → "수").
        if len(stem) >= 2 or (stem and (stem in NAME_TAILS or stem in STOPWORDS)):
            return stem
    return word


def content_words(text: str) -> list[str]:
    """Words that could name an exercise or a muscle, in message order."""
    return [word for _, word in _indexed_content_words(text)]


def _indexed_content_words(text: str) -> list[tuple[int, str]]:
    """content_words with each word's position among all words (to tell which were neighbours)."""
    raws = WORD.findall(text)
    words = []
    for i, raw in enumerate(raws):
        word = strip_particle(raw)
        following = raws[i + 1].lower() if i + 1 < len(raws) else ""
        if (
            following in ("day", "days")
            or word.lower() in ("day", "days")
            or raw.endswith(("데이", "데이의"))
            or word.endswith("데이")
        ):
            continue  # a routine's name ("pull day", "푸쉬데이"), not an exercise
        if word.lower() in STOPWORDS or raw.lower() in STOPWORDS:
            continue
        if re.fullmatch(r"\d+[A-Za-z\uac00-\ud7a3]{0,3}", word):  # "5세트", "100kg", "4주"
            continue
        if HANGUL.search(raw) and re.search(r"(줘|줄래|해요|까요|나요|세요|어요|아요|니다|볼까|할까|드릴까)$", raw):
            continue  # a verb or an ending, not a name
        words.append((i, word))
    return words


def search_terms(text: str, limit: int = 6) -> list[str]:
    """Exercise/muscle names to look up, de-duplicated, at most `limit`: a word followed by a name
    tail is looked up as one name ("덤벨 프레스"), other words alone."""
    indexed = _indexed_content_words(text)
    words = [word for _, word in indexed]
    terms: list[str] = []
    i = 0
    while i < len(words):
        # Only neighbours make one name: "푸시업 빼고 딥스" is two exercises, not "푸시업 딥스".
        if i + 1 < len(words) and indexed[i + 1][0] == indexed[i][0] + 1 and _is_name_tail(words[i + 1]):
            terms.append(f"{words[i]} {words[i + 1]}")
            i += 2
            continue
        terms.append(words[i])
        i += 1
    unique: list[str] = []
    for term in terms:
        if term.lower() not in (t.lower() for t in unique):
            unique.append(term)
    return unique[:limit]


def _is_name_tail(word: str) -> bool:
    """ "프레스" and "벤치프레스" both finish a name begun by the word before ("덤벨 벤치프레스")."""
    lowered = word.lower()
    return lowered in NAME_TAILS or (
        bool(HANGUL.search(word)) and any(lowered.endswith(tail) for tail in NAME_TAILS if HANGUL.search(tail))
    )


def with_particle(word: str, pair: str) -> str:
    """The word with the Korean particle its last syllable takes: "레그 컬" + "을/를" → "레그 컬을",
    "스쿼트" + "을/를" → "스쿼트를", "랙 풀" + "으로/로" → "랙 풀로" (ㄹ takes 로). A word not ending
    in Hangul gets the form without a final consonant."""
    with_final, without_final = pair.split("/")
    last = word.rstrip()[-1:]
    if not ("\uac00" <= last <= "\ud7a3"):
        return f"{word}{without_final}"
    final = (ord(last) - 0xAC00) % 28
    if with_final == "으로":
        return f"{word}{'로' if final in (0, 8) else '으로'}"
    return f"{word}{with_final if final else without_final}"


def fold(text: str) -> str:
    return "".join(text.lower().split())
