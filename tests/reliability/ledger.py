"""What the reliability suite did, counted as it goes and printed at the end of the session
(`pytest_terminal_summary` in conftest.py): faults injected, bad inputs tried, duplicates delivered,
requests checked, results lost, results doubled.

Lost and doubled are not assumed: `one_result_each` counts, for every request that should have
exactly one result event, how many it got, and the test fails on anything but one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any


@dataclass
class Ledger:
    faults_injected: int = 0
    bad_inputs_tried: int = 0
    duplicates_delivered: int = 0
    requests_checked: int = 0
    results_lost: int = 0
    results_doubled: int = 0

    def fault(self, count: int = 1) -> None:
        self.faults_injected += count

    def bad_input(self, count: int = 1) -> None:
        self.bad_inputs_tried += count

    def duplicate(self, count: int = 1) -> None:
        self.duplicates_delivered += count

    def one_result_each(self, request_ids: Iterable[str], results: Iterable[Any]) -> Counter:
        """Count result events per requestId (events or dicts); every id in `request_ids` must
        have exactly one and no other id may have any. Returns the counts."""
        expected = set(request_ids)
        got = Counter(_request_id(r) for r in results)
        lost = [rid for rid in expected if got[rid] == 0]
        doubled = {rid: n for rid, n in got.items() if n > 1}
        strays = sorted(rid for rid in got if rid not in expected)
        self.requests_checked += len(expected)
        self.results_lost += len(lost)
        self.results_doubled += sum(n - 1 for n in doubled.values())
        assert not lost, f"claimed requests without a result: {sorted(lost)}"
        assert not doubled, f"requests with more than one result: {doubled}"
        assert not strays, f"results for requests that were never claimed: {strays}"
        return got

    def lines(self) -> list[str]:
        return [f"{f.name.replace('_', ' ')}: {getattr(self, f.name)}" for f in fields(self)]

    @property
    def used(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def _request_id(result: Any) -> str:
    return result["requestId"] if isinstance(result, dict) else result.requestId


LEDGER = Ledger()
