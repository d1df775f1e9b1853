"""Subprocesses in tests (the CLI, the fdk server, `langgraph dev`): an environment without the
developer's worker settings, and a stop that always ends the process."""

from __future__ import annotations

import os
import signal
import subprocess

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
