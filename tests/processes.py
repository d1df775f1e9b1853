"""Subprocesses in tests (the CLI, the fdk server, `langgraph dev`): an environment without the
developer's worker settings, the function as the Fn platform runs it, and a stop that always ends
the process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

# Settings a developer may have exported; a test's subprocess sees only what the test sets.
WORKER_SETTINGS = ("GOOGLE_", "GEMINI_", "LLM_", "VM_INTERNAL", "QDRANT", "OCI_", "FN_")


def clean_env(drop: tuple[str, ...] = WORKER_SETTINGS, **values: str) -> dict[str, str]:
    """This process's environment without the variables starting with `drop`, importing this
    checkout (not an installed copy), with `values` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, "PYTHONPATH": str(REPO), **values}


def stop(process: subprocess.Popen, *, grace_s: float = 10.0, group: bool = False) -> None:
    """SIGTERM (to the process group with `group`), SIGKILL after `grace_s`; returns once it exited."""
    send = os.killpg if group else os.kill
    if process.poll() is None:
        send(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        send(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def fdk_command() -> list[str]:
    """The installed `fdk` console script, exactly as docs/deploy.md runs it (the script itself, not a
    pyenv shim, so its PID is the server's). The dev venv has uvloop (langgraph-api), and fdk installs
    its loop policy: the pinned uvloop<0.22 is what lets it start, and this shows it does."""
    return [str(Path(sys.executable).with_name("fdk"))]


@dataclass
class Function:
    process: subprocess.Popen
    socket: Path  # the unix socket the fdk serves http-stream on
    log: Path  # its stdout and stderr


@contextmanager
def running_fdk(command: list[str], *, cwd: Path, env: dict[str, str], workdir: Path) -> Iterator[Function]:
    """`command`, an fdk server, serving http-stream on a unix socket in `workdir` as the Fn platform
    runs it; its output in workdir/fdk.log; stopped by PID on exit."""
    socket, log = workdir / "lsnr.sock", workdir / "fdk.log"
    env = {**env, "FN_FORMAT": "http-stream", "FN_LISTENER": f"unix:{socket}"}
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):  # bounded: up to ~60 s for the socket
            if socket.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None and socket.exists(), log.read_text()
        yield Function(process, socket, log)
    finally:
        stop(process)


@contextmanager
def running_function(workdir: Path, **settings: str) -> Iterator[Function]:
    """`fdk func.py handler` from this checkout, offline with Qdrant in memory — a demo set-up,
    allowed explicitly (ALLOW_EMBEDDED_DEFAULTS) — with `settings` on top; stopped on exit."""
    env = clean_env(
        **{
            "QDRANT_PATH": ":memory:",
            "LLM_PROVIDER": "offline",
            "ALLOW_EMBEDDED_DEFAULTS": "true",
            # Requests queued behind others in a test's short deadline still start.
            "DEADLINE_MIN_START_S": "1",
            **settings,
        }
    )
    with running_fdk([*fdk_command(), "func.py", "handler"], cwd=REPO, env=env, workdir=workdir) as function:
        yield function
