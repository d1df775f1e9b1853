"""Settings and logging for a command-line run, shared by the `reppy-worker` sub-commands."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from app.logs import configure_logging
from core.settings import Settings


def load_settings(**overrides) -> Settings | None:
    """Settings from the environment with the command line's overrides (lower-case setting names,
    `vm_url` for VM_INTERNAL_BASE_URL); None, after saying why on stderr, when they are invalid."""
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
