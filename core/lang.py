"""The user's language, for the few lines the worker itself writes (clarifying questions)."""

import re

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")


def is_korean(text: str) -> bool:
    return bool(_HANGUL.search(text))
