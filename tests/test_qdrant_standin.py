"""The Qdrant stand-in itself: stopping it while a request is in flight is quiet."""

from __future__ import annotations

import threading
import time

import httpx

from standins.qdrant import QdrantFault, running_qdrant


def test_stopping_mid_request_answers_503_without_a_traceback(capsys):
    answers: list[int] = []
    with running_qdrant() as server:
        server.inject(QdrantFault(status=None, stall_s=5.0))  # a slow answer, still in flight at stop
        caller = threading.Thread(
            target=lambda: answers.append(httpx.get(f"{server.url}/collections/m/exists", timeout=10).status_code)
        )
        caller.start()
        for _ in range(200):  # bounded: until the handler holds the request
            if server.calls:
                break
            time.sleep(0.01)
        started = time.monotonic()
    caller.join(timeout=10)
    assert answers == [503]
    assert time.monotonic() - started < 2  # the stall ended with the stop
    assert "Traceback" not in capsys.readouterr().err
