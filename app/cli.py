"""`reppy-worker`: run one request locally and print its events as JSON lines.

    reppy-worker --example                 the seed's example payload
    reppy-worker -f request.json | -j '{…}' | < request.json
    reppy-worker --vm-url http://127.0.0.1:8080/internal --example
    reppy-worker vm-stub --port 8080       the embedded VM API as an HTTP server
    reppy-worker eval routing              measure the router on the labelled cases
    reppy-worker bench [--quick]           the performance benchmark (from a source checkout)
    reppy-worker memory export|forget --user ID   a user's stored memories: export, or delete them all

Exit codes: 0 SUCCEEDED / CLARIFY / skipped, 1 FAILED, 2 unusable input or configuration,
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

EXAMPLE_REQUEST = {
    "requestId": "req-12345",
    "userId": "user-67890",
    "conversation_history": [{"role": "user", "content": "오늘 운동 뭐 해야 돼?"}],
    "stream": True,
    "metadata": {},
}
EXIT_CODES = {"SUCCEEDED": 0, "CLARIFY": 0, "SKIPPED": 0, "FAILED": 1, "INVALID": 2}

log = logging.getLogger("reppy.cli")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["vm-stub"]:
        return vm_stub(argv[1:])
    if argv[:1] == ["eval"]:
        from app.evaluation import eval_command

        return eval_command(argv[1:])
    if argv[:1] == ["bench"]:
        return bench(argv[1:])
    if argv[:1] == ["memory"]:
        from app.memory_admin import memory_command

        return memory_command(argv[1:])
    return run(argv)


def bench(argv: list[str]) -> int:
    # bench/ sits beside app/ in a checkout (it reuses the stand-ins under tests/).
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        from bench.cli import main as bench_main
    except ImportError:
        print(
            "reppy-worker bench: run it from a source checkout (bench/ and tests/ are not installed)", file=sys.stderr
        )
        return 2
    return bench_main(argv)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="reppy-worker", description="Run one Reppy Worker request locally.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("-f", "--file", type=Path, help="request JSON file")
    source.add_argument("-j", "--json", help="request JSON string")
    source.add_argument("--example", action="store_true", help="run the seed's example request")
    parser.add_argument("--vm-url", help="VM Internal API base URL (overrides VM_INTERNAL_BASE_URL)")
    args = parser.parse_args(argv)

    settings = _settings(vm_url=args.vm_url)
    if settings is None:
        return 2
    raw = _read_request(args)
    if raw is None:
        parser.print_usage(sys.stderr)
        print("reppy-worker: give a request with -f, -j, --example or on stdin", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run_one(raw, settings))
    except KeyboardInterrupt:  # Ctrl-C: a claimed request has printed its CANCELLED result already
        print("reppy-worker: interrupted", file=sys.stderr)
        return 130


async def _run_one(raw: str | bytes | dict, settings) -> int:
    from app.dependencies import build_dependencies
    from app.runner import handle
    from core.errors import WorkerError

    try:
        deps = build_dependencies(settings)
    except WorkerError as exc:
        print(f"reppy-worker: configuration error: {exc.message}", file=sys.stderr)
        return 2
    try:
        outcome = await handle(raw, deps)
    finally:
        await deps.aclose()
    if outcome.status == "INVALID" and outcome.request_id is None:
        print("reppy-worker: invalid request (see the log above); no requestId to report it under", file=sys.stderr)
    return EXIT_CODES[outcome.status]


def _settings(**overrides):
    from app.logs import configure_logging
    from core.settings import Settings

    try:
        settings = Settings(
            **{k.upper() if k != "vm_url" else "VM_INTERNAL_BASE_URL": v for k, v in overrides.items() if v is not None}
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False, include_input=False)
        )
        print(f"reppy-worker: invalid configuration: {problems}", file=sys.stderr)
        return None
    configure_logging(settings)
    return settings


def _read_request(args) -> str | bytes | dict | None:
    if args.example:
        return EXAMPLE_REQUEST
    if args.json is not None:
        return args.json
    if args.file is not None:
        try:
            return args.file.read_bytes()
        except OSError as exc:
            print(f"reppy-worker: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return b""  # reported as an invalid (empty) request
    if not sys.stdin.isatty():
        return sys.stdin.buffer.read()
    return None


def vm_stub(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="reppy-worker vm-stub", description="Serve the embedded VM Internal API over HTTP."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--prefix", default="/internal")
    args = parser.parse_args(argv)
    settings = _settings()
    if settings is None:
        return 2
    if settings.VM_INTERNAL_TOKEN is None:
        print("reppy-worker vm-stub: set VM_INTERNAL_TOKEN (clients must send it as a Bearer token)", file=sys.stderr)
        return 2
    from adapters.vm_api.stub_server import VMStubServer

    server = VMStubServer(args.host, args.port, settings.VM_INTERNAL_TOKEN.get_secret_value(), prefix=args.prefix)
    # One machine-readable line, so scripts and tests learn the port.
    print(json.dumps({"vm_stub": server.base_url}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
