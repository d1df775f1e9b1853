"""`reppy-worker memory export|forget --user ID`: an operator's answer to a user's request for their
data or for its deletion (PIPA, GDPR), against the memory store the settings name — local mode
(QDRANT_PATH) or a Qdrant server (QDRANT_URL).

    reppy-worker memory export --user user-67890   everything stored for the user (retired facts
                                                   too), as one JSON document on stdout
    reppy-worker memory forget --user user-67890   delete all of it; prints how many were deleted

Exit codes: 0 done, 1 the store failed, 2 bad arguments or configuration."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime


def memory_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="reppy-worker memory", description="Export or delete everything stored for one user."
    )
    parser.add_argument("action", choices=["export", "forget"])
    parser.add_argument("--user", required=True, help="the userId, exactly as requests carry it")
    args = parser.parse_args(argv)
    if not args.user.strip():
        parser.error("--user must not be empty")

    from app.command_settings import load_settings

    settings = load_settings()
    if settings is None:
        return 2
    try:
        return asyncio.run(_run(args.action, args.user, settings))
    except KeyboardInterrupt:
        print("reppy-worker memory: interrupted", file=sys.stderr)
        return 130


async def _run(action: str, user_id: str, settings) -> int:
    from app.dependencies import memory_store
    from core.errors import WorkerError

    memory = memory_store(settings)
    try:
        if action == "export":
            memories = await memory.export(user_id)
            report = {
                "userId": user_id,
                "exported_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "count": len(memories),
                "memories": memories,
            }
        else:
            report = {"userId": user_id, "forgotten": await memory.forget(user_id)}
    except WorkerError as exc:
        print(f"reppy-worker memory {action}: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await memory.aclose()
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0
