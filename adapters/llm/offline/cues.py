"""Lexical cues of intent in Korean and English: the verbs of creating vs changing, question forms,
replies that only make sense against the previous turn, and what an assistant turn offered to do.

Korean verbs are matched on their stems ("만들" covers 만들어줘 / 만들어 줄래 / 만들어죠), so typos in
the ending and casual endings still match. These cues feed the offline router's classifier; they
are features, not rules — the weights come from the labelled examples."""

from __future__ import annotations

import re
from dataclasses import dataclass

_I = re.IGNORECASE


def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, _I)


# Making something new: a program, a split, a plan.
CREATE = _rx(
    r"만들|짜(?=\s*(?:줘|주|줄|봐|볼|달|드|자|야|기|는|고|서|면|려|라|ㄱ|죠|요|$))|짤래|짤까|짜는|구성|설계|세워|세우|"
    r"뽑아|작성|계획해|"
    r"\b(?:make|mak|create|build|design|write|generate|draw up|put together|come up with|set up|set me up|"
    r"plan me|gimme|give me|start me)\b"
)
NEW = _rx(
    r"새로|새\s|새(?=[가-힣])(?!벽)|새것|새거|처음부터|아예|다시 짜|"
    r"\b(?:new|fresh|from scratch|brand|another|whole new|completely new)\b"
)
PROGRAM = _rx(
    r"프로그램|프로그렘|루틴|분할|스플릿|계획|플랜|스케줄|스케쥴|일정표|계획표|커리큘럼|"
    r"\b(?:program|programme|progam|progrm|routine|split|plan|schedule|regimen|ppl|5x5|block)\b"
)
SPEC = _rx(
    r"주\s*\d|\d\s*주|일주일에|\d\s*(?:일|분할|회)\b|\d+\s*-?\s*(?:days?|weeks?)\b|"
    r"(?:times?|days?)\s*(?:a|per)\s*week|개월|한\s*달|두\s*달|\bmonths?\b|상하체|전신|full body|upper|lower|"
    r"근비대|벌크|다이어트|감량|스트렝스|근력|파워리프팅|홈트|초보|초급|헬린이|입문|중급|"
    r"hypertroph|strength|\bcut\b|fat loss|bulk|beginner|intermediate|home workout|bodyweight"
)
# Changing what exists. "살 빼" (lose weight) is not removing an exercise.
CHANGE = _rx(
    r"바꿔|바꾸|바꿀|바꿨|교체|대신|변경|수정|고쳐|고치|손봐|손보|손볼|(?<!살\s)(?<!살)빼|삭제|제거|없애|추가|넣|더해|늘려|늘리|"
    r"줄여|줄이|올려|올리|낮춰|낮추|내려|내리|조정|업데이트|말고|반영|"
    r"\b(?:replace|swap|switch|substitute|instead|remove|remvoe|drop|take out|delete|get rid|add|put(?! together)|include|"
    r"increase|decrease|bump|lower|raise|reduce|change|modify|edit|tweak|update|adjust|cut out|cut (?:your|the|my|it|them|down)|up my)\b"
)
EXERCISE = _rx(
    r"벤치|스쿼트|데드|로우|풀업|턱걸이|친업|컬|프레스|레이즈|런지|딥스|플랭크|풀다운|렛풀|랫풀|푸시다운|푸쉬다운|"
    r"익스텐션|쓰러스트|크로스오버|플라이|사레레|카프|브릿지|크런치|롤아웃|페이스\s*풀|"
    r"\b(?:bench|squats?|deadlifts?|dead|rows?|pull-?ups?|chin-?ups?|curls?|press|raises?|lunges?|dips?|"
    r"plank|pulldowns?|pushdowns?|extensions?|thrusts?|fly|flyes|flies|crossover|face pulls?|rdl|ohp|calf)\b"
)
MUSCLE = _rx(
    r"가슴|하체|어깨|복근|코어|엉덩이|광배|이두|삼두|\b(?:chest|back|legs|shoulders|arms|abs|core|glutes|lats)\b"
)
ROUTINE_REF = _rx(
    r"푸쉬데이|푸시데이|풀데이|레그데이|하체날|가슴날|등날|내 루틴|지금 루틴|기존 루틴|루틴에서|루틴에|"
    r"\b(?:push day|pull day|leg day|my routine|current routine|my program|my plan)\b"
)
# "주 3회" / "3 days a week" is how often, not how many reps.
AMOUNT = _rx(
    r"(?<!주)(?<!주\s)(?<!\d)\d+(?:\.\d+)?\s*(?:세트|회|개|번|kg|킬로|키로|reps?|sets?|lbs?)|세트\s*(?:수|하나|한)|횟수|무게|"
    r"\b(?:weight|sets? of|reps)\b"
)
QUESTION = _rx(
    r"\?|뭐|뭘|무엇|무슨|어떻게|어떡|왜|얼마|몇|언제|어디|어느|어때|괜찮|될까|되나|인가|알려|궁금|설명|차이|"
    r"추천|정상|맞아|할까|나요|가요|는지|효과|"
    r"\b(?:what|wats|whats|how|hw|why|when|where|which|who|should|is it|is|are|do i|does|tips?|explain|"
    r"difference|better|worth|ok to|okay to)\b"
)
MEMORY = _rx(r"기억|말했|얘기했|했었|했던|\b(?:remember|told you|i said|i mentioned)\b")
SELF_REPORT = _rx(
    r"오운완|성공|찍었|했어|했더니|했는데|힘들|아파|아프|뻐근|통증|다쳤|삐었|귀찮|피곤|"
    r"\b(?:i did|i hit|pr\b|hurt|sore|pain|tired|tweaked|finished)\b"
)

AFFIRM = _rx(
    r"^\s*(?:응|웅|엉|ㅇㅇ|ㅇㅋ|오키|오케이|콜|좋아|좋네|좋습니다|그래|그러자|그럽시다|네|넵|예|ㄱㄱ|고고|당연|"
    r"yes|yeah|yea|yep|yup|ya|sure|ok|okay|k|sounds good|do it|go ahead|please|pls|let'?s|perfect|"
    r"great|alright|fine|cool)(?![a-z])|그렇게|부탁|해주세요|해줘|해 줘|가자|\b(?:do that|go for it|please)\b"
)
REFER = _rx(r"그걸로|그거|그것|그게|그렇게|이걸로|이거|이것|저거|그런|\b(?:that|it|this|those|them|same|one)\b")
FIRST = _rx(r"첫\s*번째|첫번째|1번|앞에\s*(?:거|것)|앞엣것|전자|\b(?:first|1st|former)\b")
SECOND = _rx(r"두\s*번째|두번째|2번|뒤에\s*(?:거|것)|뒤엣것|후자|\b(?:second|2nd|latter)\b")
KEEP = _rx(r"지금\s*(?:거|것|루틴)|기존|원래|\b(?:keep|current|existing)\b")
UNSURE = _rx(r"모르|몰라|글쎄|고민|애매|\b(?:idk|not sure|dunno|don'?t know|no idea|maybe|unsure)\b")
NEGATION = _rx(r"^\s*(?:아니|아뇨|싫어|no\b|nope|nah)|\b(?:not|don'?t|dont)\b")
FOLLOW_UP = _rx(
    r"^\s*(?:그럼|그러면|그래서|그리고|근데|또|그건|그거|and\b|then\b|so\b|what about|how about|what if)|"
    r"[은는]\?\s*$"
)
FILLER_WORDS = set("음 음… 흠 흠… 어 아 엄 저기 저기요 그냥 뭐 hmm hm uh um eh well ok k".split())
FILLER_CHARS = re.compile(r"^[\s.…?!~ㅋㅎㅠㅜㅡ,;:^]*$")

# What an assistant turn offers to do next ("…바꿔 드릴까요?", "Want me to build …?").
OFFER = _rx(
    r"드릴까요|드릴게요|드릴 수|할까요|볼까요|어떨까요|할래요|반영할까요|해 드릴|"
    r"\b(?:want me to|shall i|should i|would you like|do you want|i can|i could|want that|let me)\b"
)
EXPLAIN = _rx(
    r"설명|알려|자세히|보여|팁|방법|\b(?:explain|show you|walk you through|tell you more|go over|break down|tips?|advice|how to)\b"
)
CHOICE = _rx(r"아니면|또는|\bor\b")

WORD = re.compile(r"[0-9A-Za-z\uac00-\ud7a3\u3131-\u318e]+")


@dataclass(frozen=True)
class Offer:
    """What the assistant's previous turn proposed: one action, or a choice between creating and
    changing (with which of the two it named first)."""

    action: str | None  # "create" | "change" | "explain" | "choice" | None
    create_first: bool = False


def words(text: str) -> list[str]:
    return WORD.findall(text)


def is_filler(text: str) -> bool:
    if FILLER_CHARS.match(text):
        return True
    tokens = [w.lower() for w in words(text)]
    return all(t in FILLER_WORDS or re.fullmatch(r"[ㅋㅎㅠㅜㅡ]+", t) for t in tokens)


def message_cues(text: str) -> dict[str, float]:
    """Binary cues of one user message."""
    n = len(words(text))
    cues = {
        "create": CREATE,
        "new": NEW,
        "program": PROGRAM,
        "spec": SPEC,
        "change": CHANGE,
        "exercise": EXERCISE,
        "routine_ref": ROUTINE_REF,
        "amount": AMOUNT,
        "question": QUESTION,
        "memory": MEMORY,
        "self_report": SELF_REPORT,
        "affirm": AFFIRM,
        "refer": REFER,
        "unsure": UNSURE,
        "negation": NEGATION,
        "follow_up": FOLLOW_UP,
    }
    found = {name: float(bool(pattern.search(text))) for name, pattern in cues.items()}
    # A program request tends to list several parameters at once (days, weeks, goal, level).
    found["specs"] = min(len(SPEC.findall(text)), 3) / 3
    found["pick"] = float(bool(FIRST.search(text) or SECOND.search(text)))
    found["filler"] = float(is_filler(text))
    found["one_word"] = float(n <= 1)
    found["two_words"] = float(n == 2)
    found["long"] = float(n >= 5)
    return found


def depends_on_history(text: str) -> bool:
    """A reply that only makes sense against the previous turn: yes/ok, "그걸로", "the second one",
    "not sure", a short follow-up question ("그럼 초보는?", "why?")."""
    n = len(words(text))
    if n > 6 or _names_an_object(text):
        return False  # "레그컬 삭제", "프로그램 짜주셈": says what it is about on its own
    if n <= 2:
        return True
    if QUESTION.search(text) and n <= 4 and not _names_something(text):
        return True  # "몇 시간 걸려?", "why is that?": a question about what was just said
    return bool(
        AFFIRM.search(text)
        or REFER.search(text)
        or FIRST.search(text)
        or SECOND.search(text)
        or UNSURE.search(text)
        or NEGATION.search(text)
        or FOLLOW_UP.search(text)
    )


def _names_an_object(text: str) -> bool:
    return any(p.search(text) for p in (EXERCISE, PROGRAM, ROUTINE_REF, MUSCLE))


def _names_something(text: str) -> bool:
    return any(p.search(text) for p in (CREATE, CHANGE, PROGRAM, EXERCISE, ROUTINE_REF, SPEC))


def offer_of(assistant_turn: str) -> Offer:
    """The action an assistant turn proposes, read from the action verb nearest its offer marker."""
    text = assistant_turn
    create = [m.start() for p in (CREATE, NEW) for m in p.finditer(text)]
    change = [m.start() for m in CHANGE.finditer(text)]
    explain = [m.start() for m in EXPLAIN.finditer(text)]
    if create and change and CHOICE.search(text):
        return Offer("choice", create_first=min(create) < min(change))
    markers = [m.start() for m in OFFER.finditer(text)]
    if not markers and not text.rstrip().endswith("?"):
        return Offer(None)
    actions = [(p, "create") for p in create] + [(p, "change") for p in change] + [(p, "explain") for p in explain]
    if not actions:
        return Offer(None)
    marker = markers[-1] if markers else len(text)
    # Korean puts the verb before the marker (바꿔 드릴까요); English after it (want me to replace).
    before = [a for a in actions if a[0] < marker]
    after = [a for a in actions if a[0] >= marker]
    if after and re.match(r"[A-Za-z]", text[marker : marker + 1] or ""):
        return Offer(min(after)[1])
    return Offer(max(before)[1] if before else min(after)[1])


def picked(reply: str, offer: Offer) -> str | None:
    """Which side of a create-or-change question a reply chose, if it chose."""
    if UNSURE.search(reply):
        return None
    if FIRST.search(reply):
        return "create" if offer.create_first else "change"
    if SECOND.search(reply):
        return "change" if offer.create_first else "create"
    wants_new = bool(NEW.search(reply) or CREATE.search(reply))
    wants_change = bool(KEEP.search(reply) or CHANGE.search(reply))
    if wants_new != wants_change:
        return "create" if wants_new else "change"
    return None
