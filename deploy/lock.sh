#!/usr/bin/env bash
# Regenerates requirements.txt, the lock the Function image installs: pyproject.toml's dependencies
# and its `oci` extra (no dev tools), every transitive dependency pinned exactly, with hashes, for
# the Fn image's Python 3.11 on Linux x86_64. Versions already locked are kept unless `--upgrade`
# (or `--upgrade-package NAME`) is passed. Needs uv (`pip install uv`); tests/test_image.py checks
# that the lock and pyproject.toml agree.
#
# fdk declares its own build and test tools as dependencies (Cython, pytest, pytest-asyncio, pbr,
# wheel); the function never imports them, so they are left out of the lock, with what only they
# pull in. The image installs the lock with --no-deps.
set -euo pipefail
cd "$(dirname "$0")/.."
uv pip compile pyproject.toml --extra oci \
  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
  --generate-hashes --no-strip-markers \
  --no-emit-package cython --no-emit-package pytest --no-emit-package pytest-asyncio \
  --no-emit-package pbr --no-emit-package wheel --no-emit-package setuptools \
  --no-emit-package iniconfig --no-emit-package pluggy --no-emit-package pygments \
  --custom-compile-command "deploy/lock.sh" \
  -o requirements.txt "$@"
