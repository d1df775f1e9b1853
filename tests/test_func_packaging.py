"""What the Fn CLI builds from: func.yaml, the Dockerfile and the build context (the lock: tests/test_image.py)."""

from __future__ import annotations

import inspect

import yaml

from tests.conftest import REPO

# Fields of Fn's func file (schema_version 20180708) and the JSON types its schema gives them.
FUNC_FILE_FIELDS = {
    "schema_version": int,
    "name": str,
    "version": str,
    "runtime": str,
    "build_image": str,
    "run_image": str,
    "entrypoint": str,
    "cmd": str,
    "content_type": str,
    "memory": int,
    "timeout": int,
    "idle_timeout": int,
    "config": dict,
    "annotations": dict,
    "triggers": list,
    "build": list,
    "expects": dict,
    "type": str,
    "cpus": str,
    "path": str,
    "deploy": dict,
    "tests": list,
}
OCI_MAX_SYNC_TIMEOUT_S = 300


def func_file() -> dict:
    return yaml.safe_load((REPO / "func.yaml").read_text())


def test_func_yaml_matches_the_fn_func_file_schema():
    spec = func_file()
    assert set(spec) <= set(FUNC_FILE_FIELDS), set(spec) - set(FUNC_FILE_FIELDS)
    for key, value in spec.items():
        assert isinstance(value, FUNC_FILE_FIELDS[key]) and not isinstance(value, bool), key
    assert spec["schema_version"] == 20180708
    assert spec["runtime"] == "docker"  # built from ./Dockerfile
    assert "build_image" not in spec and "run_image" not in spec and "entrypoint" not in spec  # the Dockerfile's
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in spec["config"].items())  # map[string]string


def test_func_yaml_limits_fit_oci_functions():
    spec = func_file()
    assert 0 < spec["timeout"] <= OCI_MAX_SYNC_TIMEOUT_S
    assert spec["memory"] % 128 == 0 and 128 <= spec["memory"] <= 3072


def test_entrypoint_names_an_async_handler_in_func_py():
    import json

    import func

    [line] = [x for x in (REPO / "Dockerfile").read_text().splitlines() if x.startswith("ENTRYPOINT ")]
    binary, path, entry = json.loads(line.removeprefix("ENTRYPOINT "))
    assert (binary, path) == ("/python/bin/fdk", "/function/func.py")
    assert (REPO / "func.py").is_file()
    assert inspect.iscoroutinefunction(getattr(func, entry))
    assert list(inspect.signature(getattr(func, entry)).parameters) == ["ctx", "data"]  # fdk calls (ctx, data=…)


def test_build_context_leaves_out_secrets_and_tests():
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".env" in ignored and "tests" in ignored and ".git" in ignored
    assert {"standins", "bench"} <= set(ignored)  # test and benchmark tools stay out of the image
