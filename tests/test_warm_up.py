"""A Function instance's first run: the memory store loads on a thread of its own once the run's
graph has started, then the cyclic collector freezes what is loaded. Other builds (CLI, tests)
load on first use and freeze nothing."""

from __future__ import annotations

import gc
import threading

import pytest

from app.dependencies import build_dependencies


class LoadingMemory:
    """Records where warm_up ran; the rest of UserMemory is not used here."""

    def __init__(self, fail: bool = False):
        self.loaded_on: list[str] = []
        self.fail = fail

    def warm_up(self) -> None:
        self.loaded_on.append(threading.current_thread().name)
        if self.fail:
            raise RuntimeError("the store is locked")

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize("fail", [False, True], ids=["loads", "fails-to-load"])
def test_the_first_run_loads_memory_beside_it_then_freezes_the_collector(settings, fail):
    memory = LoadingMemory(fail=fail)
    deps = build_dependencies(settings, memory=memory, warm_up=True)
    frozen = gc.get_freeze_count()
    deps.run_started()
    deps.run_started()  # every later run: nothing more
    deps._warming.join(timeout=10)
    assert memory.loaded_on == ["reppy-warm-up"]  # once, off the event loop's thread
    assert gc.get_freeze_count() > frozen  # a failed load still freezes what the imports left


def test_without_warm_up_nothing_loads_ahead_and_nothing_is_frozen(settings):
    memory = LoadingMemory()
    deps = build_dependencies(settings, memory=memory)
    frozen = gc.get_freeze_count()
    deps.run_started()
    assert deps._warming is None and memory.loaded_on == [] and gc.get_freeze_count() == frozen
