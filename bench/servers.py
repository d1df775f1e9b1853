"""The bench's servers — the Gemini stand-in and the VM API stub — in a process of their own on
127.0.0.1, so their threads never compete with the measured worker for its interpreter lock.

Parent side: `with BenchServers(config) as servers:` → `servers.gemini_url`, `servers.vm_url`,
`servers.schedule(since)`. The child is stopped by closing its stdin, and by its PID if it lingers.

Child side: `python -m bench.servers '<config JSON>'` prints one JSON line with both URLs, then
serves until its stdin closes.
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
        self._process: subprocess.Popen | None = None

    def start(self) -> BenchServers:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.servers", json.dumps(self.config.as_dict())],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = _read_line(self._process, START_TIMEOUT_S)
        if not line:
            self.stop()
            raise RuntimeError("the bench servers did not start (see the log above)")
        urls = json.loads(line)
        self.gemini_url, self.vm_url = urls["gemini"], urls["vm"]
        return self

    def schedule(self, since: int = 0) -> list[dict[str, Any]]:
        """The Gemini stand-in's timing of every call from index `since` on."""
        response = httpx.get(f"{self.gemini_url}/_standin/schedule", params={"since": since}, timeout=10)
        response.raise_for_status()
        return response.json()["calls"]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
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

    def __enter__(self) -> BenchServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_line(process: subprocess.Popen, timeout_s: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            return ""
    return process.stdout.readline().strip()


def serve(config: BenchConfig) -> None:
    from adapters.vm_api.stub_server import VMStubServer
    from bench.scenarios import BenchResponder
    from standins.gemini import GeminiStandIn, Latency

    speeds = {FLASH: config.flash, PRO: config.pro}
    gemini = GeminiStandIn(
        api_key=GEMINI_KEY,
        responder=BenchResponder(config.tokens),
        model_latency={m: Latency(s.ttft_s, s.tokens_per_s) for m, s in speeds.items()},
    )
    vm = VMStubServer("127.0.0.1", 0, VM_TOKEN, latency_s=config.vm_latency_s)
    gemini.start()
    vm.start_in_thread()
    try:
        print(json.dumps({"gemini": gemini.base_url, "vm": vm.base_url}), flush=True)
        sys.stdin.read()  # returns when the parent closes our stdin (or dies)
    finally:
        vm.stop()
        gemini.stop()


if __name__ == "__main__":
    serve(BenchConfig.from_dict(json.loads(sys.argv[1])))
