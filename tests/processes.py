"""Subprocesses in tests (the CLI, the fdk server, `langgraph dev`): an environment without the
developer's worker settings, the function as the Fn platform runs it, and a stop that always ends
the process."""

from __future__ import annotations

import importlib.metadata
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
    """The installed `fdk` console script's entry point, run with this interpreter (not a shim).

    fdk installs uvloop's loop policy whenever uvloop is importable (here it comes with the dev
    server's langgraph-api; the function image has none), then calls asyncio.get_event_loop(),
    which uvloop >= 0.22 refuses without a current loop. Setting one first changes nothing else."""
    [entry] = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "fdk"]
    module, function = entry.value.split(":")
    return [
        sys.executable,
        "-c",
        f"import asyncio, sys, fdk; asyncio.set_event_loop(asyncio.new_event_loop()); "
        f"from {module} import {function}; sys.exit({function}())",
    ]


@dataclass
class Function:
    process: subprocess.Popen
    socket: Path  # the unix socket the fdk serves http-stream on
    log: Path  # its stdout and stderr


@contextmanager
def running_function(workdir: Path, **settings: str) -> Iterator[Function]:
    """`fdk func.py handler` as the Fn platform runs it (http-stream on a unix socket in `workdir`),
    offline with Qdrant in memory, with `settings` on top; stopped on exit."""
    socket = workdir / "lsnr.sock"
    env = clean_env(
        **{
            "FN_FORMAT": "http-stream",
            "FN_LISTENER": f"unix:{socket}",
            "QDRANT_PATH": ":memory:",
            "LLM_PROVIDER": "offline",
            **settings,
        }
    )
    log = workdir / "fdk.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [*fdk_command(), "func.py", "handler"], cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    try:
        for _ in range(600):  # bounded: up to ~60 s for the socket
            if socket.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None and socket.exists(), log.read_text()
        yield Function(process, socket, log)
    finally:
        stop(process)
