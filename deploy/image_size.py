"""Prints the installed size of the Function's dependencies (a `pip install --target` directory, the
image's /python) and its largest top-level entries.

Usage: python deploy/image_size.py /python [--top N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def sizes(root: Path) -> dict[str, int]:
    """Bytes per top-level entry (package, module, dist-info, bin)."""
    result: dict[str, int] = {}
    for entry in root.iterdir():
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        result[entry.name] = sum(p.stat().st_size for p in files if not p.is_symlink())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    per_entry = sizes(args.root)
    total = sum(per_entry.values())
    print(f"{total / 1e6:.1f} MB installed in {args.root}")
    for name, size in sorted(per_entry.items(), key=lambda item: -item[1])[: args.top]:
        print(f"{size / 1e6:8.1f} MB  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
