"""The bench's servers — the Gemini stand-in and the VM API stub — each in a process of its own on
127.0.0.1, so their threads never compete with the measured worker, nor with each other, for an
interpreter lock (50 concurrent requests send ~250 calls at once: one process serving both queued
them behind its own lock and charged the wait to the worker).

Parent side: `with BenchServers(config) as servers:` → `servers.gemini_url`, `servers.vm_url`,
`servers.schedule(since)`. A child is stopped by closing its stdin, and by its PID if it lingers.

Child side: `python -m bench.servers gemini|vm '<config JSON>'` prints one JSON line with its URL,
then serves until its stdin closes.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from bench.config import FLASH, PRO, BenchConfig

REPO = Path(__file__).resolve().parent.parent
GEMINI_KEY = "bench-gemini-key"
VM_TOKEN = "bench-vm-token"
START_TIMEOUT_S = 60.0


class BenchServers:
    def __init__(self, config: BenchConfig):
        self.config = config
        self.gemini_url = ""
        self.vm_url = ""
        self._processes: list[subprocess.Popen] = []

    def start(self) -> BenchServers:
        try:
            for name in ("gemini", "vm"):
                process = subprocess.Popen(
                    [sys.executable, "-m", "bench.servers", name, json.dumps(self.config.as_dict())],
                    cwd=REPO,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                self._processes.append(process)
                line = _read_line(process, START_TIMEOUT_S)
                if not line:
                    raise RuntimeError(f"the bench's {name} server did not start (see the log above)")
                setattr(self, f"{name}_url", json.loads(line)["url"])
        except BaseException:
            self.stop()
            raise
        return self

    def schedule(self, since: int = 0) -> list[dict[str, Any]]:
        """The Gemini stand-in's timing of every call from index `since` on."""
        response = httpx.get(f"{self.gemini_url}/_standin/schedule", params={"since": since}, timeout=10)
        response.raise_for_status()
        return response.json()["calls"]

    def stop(self) -> None:
        processes, self._processes = self._processes, []
        for process in processes:
            _stop(process)

    def __enter__(self) -> BenchServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop(process: subprocess.Popen) -> None:
    try:
        process.stdin.close()  # the child's signal to stop
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.terminate()  # this PID only
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    finally:
        if process.stdout is not None:
            process.stdout.close()


def _read_line(process: subprocess.Popen, timeout_s: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            return ""
    return process.stdout.readline().strip()


def serve(name: str, config: BenchConfig) -> None:
    if name == "gemini":
        from bench.scenarios import BenchResponder
        from standins.gemini import GeminiStandIn, Latency

        speeds = {FLASH: config.flash, PRO: config.pro}
        server = GeminiStandIn(
            api_key=GEMINI_KEY,
            responder=BenchResponder(config.tokens),
            model_latency={m: Latency(s.ttft_s, s.tokens_per_s) for m, s in speeds.items()},
            chunk_tokens=config.stream_chunk_tokens,
        )
        server.start()
        url = server.base_url
    else:
        from adapters.vm_api.stub_server import VMStubServer

        server = VMStubServer("127.0.0.1", 0, VM_TOKEN, latency_s=config.vm_latency_s)
        server.start_in_thread()
        url = server.base_url
    try:
        print(json.dumps({"url": url}), flush=True)
        sys.stdin.read()  # returns when the parent closes our stdin (or dies)
    finally:
        server.stop()


if __name__ == "__main__":
    serve(sys.argv[1], BenchConfig.from_dict(json.loads(sys.argv[2])))
