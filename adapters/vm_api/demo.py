"""Demo data store behind the embedded VM API and the HTTP stub: one idempotency store, shared by
every client of the same process, guarded by a lock because the HTTP stub serves from threads."""

from __future__ import annotations

import copy
import threading
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

MAX_SEARCH_RESULTS = 20


@lru_cache(maxsize=1)
def demo_data() -> dict[str, Any]:
    text = resources.files("adapters.vm_api").joinpath("demo_data.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _fold(text: str) -> str:
    """Case- and space-insensitive form, so "벤치 프레스" finds "벤치프레스"."""
    return "".join(text.lower().split())


class DemoStore:
    def __init__(self, data: dict[str, Any] | None = None):
        self._data = data if data is not None else demo_data()
        self._claimed: set[str] = set()
        self._lock = threading.Lock()
        self._index = [(_search_keys(item), item) for item in self._data["exercises"]]
        # Demo data with the product spec's minimal fields has no muscle words: its search matches names only.
        muscle_names = self._data.get("muscle_names") or {}
        self._muscles = {code: [_fold(n) for n in names] for code, names in muscle_names.items()}

    def claim(self, request_id: str) -> bool:
        with self._lock:
            if request_id in self._claimed:
                return False
            self._claimed.add(request_id)
            return True

    def profile(self, user_id: str) -> dict[str, Any] | None:
        user = self._data["users"].get(user_id)
        return copy.deepcopy(user["profile"]) if user else None

    def active_routines(self, user_id: str) -> list[dict[str, Any]]:
        user = self._data["users"].get(user_id)
        return copy.deepcopy(user["routines"]) if user else []

    def search(self, query: str) -> list[dict[str, Any]]:
        q = _fold(query)
        if not q:
            return []
        # Muscle names first, as written: "shoulders" is a muscle group, not a plural to trim.
        muscles = {code for code, names in self._muscles.items() if q in names or q == code.lower()}
        if q.isascii() and len(q) > 4 and q.endswith("s"):
            q = q[:-1]  # "rack pulls" finds "Rack Pull"
        ranked = []
        for position, (keys, item) in enumerate(self._index):
            if any(q == k for k in keys):
                rank = 0
            elif item.get("main_muscle_code") in muscles:
                rank = 1  # "가슴" lists the chest exercises in catalog order (compounds first)
            elif any(k.startswith(q) for k in keys):
                rank = 2
            elif any(q in k for k in keys):
                rank = 3
            else:
                continue
            ranked.append((rank, position, item))
        ranked.sort(key=lambda r: r[:2])
        return [copy.deepcopy(item) for _, _, item in ranked[:MAX_SEARCH_RESULTS]]


def _search_keys(item: dict[str, Any]) -> list[str]:
    """The names an item is found by: its code (also as words: "bench press" finds
    BARBELL_BENCH_PRESS), its names and aliases, whichever it has."""
    code = item["exercise_code"]
    names = [code, code.replace("_", " "), item.get("name_ko"), item.get("name_en"), *item.get("aliases", [])]
    return [_fold(n) for n in names if n]
