"""Dependencies are installed with hashes from locks made from the declared requirements
(SECURITY F6; issue 10, #20).

requirements.lock holds the runtime closure of pyproject.toml's dependencies (and the
build backend), requirements-dev.lock the same plus the dev extra, requirements-uv.lock
the installer. Every entry is pinned with sha256 hashes, and the Makefile installs every
third-party package with --require-hashes.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import run
from tests.projects import ROOT

LOCKS = ("requirements.lock", "requirements-dev.lock", "requirements-uv.lock")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def entries(lock: str) -> dict[str, tuple[str, frozenset[str], Requirement]]:
    """name -> (version, hashes, requirement) of every entry of ``lock``."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    logical = re.sub(r"\s*\\\n\s*", " ", text)  # join the continuation lines
    found = {}
    for line in logical.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        spec, *options = re.split(r"\s+(?=--)", line)
        requirement = Requirement(spec)
        assert options, f"{lock}: {spec} has no hash"
        assert all(HASH.fullmatch(o) for o in options), f"{lock}: {line[:80]}"
        (pin,) = requirement.specifier
        assert pin.operator == "==", f"{lock}: {spec} is not pinned with =="
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{lock}: {name} twice"
        found[name] = (pin.version, frozenset(options), requirement)
    return found


def applies_here(requirement: Requirement, extras: set[str] = set()) -> bool:  # noqa: B006
    if requirement.marker is None:
        return True
    env = dict(default_environment())
    return any(requirement.marker.evaluate({**env, "extra": e}) for e in (extras or {""}))


def closure(roots: list[str]) -> set[str]:
    """The names of ``roots`` and everything they need on this machine (installed metadata)."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if not applies_here(req) or name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is locked but not installed: run `make install`")
        for dep in requires:
            sub = Requirement(dep)
            if applies_here(sub, req.extras):
                todo.append(Requirement(str(sub).split(";")[0]))
    return seen


def declared(dev: bool) -> list[str]:
    runtime = PYPROJECT["project"]["dependencies"] + PYPROJECT["build-system"]["requires"]
    return runtime + (PYPROJECT["project"]["optional-dependencies"]["dev"] if dev else [])


@pytest.mark.parametrize("lock", LOCKS)
def test_every_entry_of_every_lock_is_pinned_with_sha256_hashes(lock: str) -> None:
    assert entries(lock)


@pytest.mark.parametrize(
    ("lock", "dev"), [("requirements.lock", False), ("requirements-dev.lock", True)]
)
def test_a_lock_holds_exactly_the_closure_of_the_declared_dependencies(
    lock: str, dev: bool
) -> None:
    locked = entries(lock)
    for requirement in map(Requirement, declared(dev)):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{lock} lacks {name}, declared in pyproject.toml"
        assert requirement.specifier.contains(locked[name][0]), f"{lock}: {name}"
    here = {name for name, (_, _, req) in locked.items() if applies_here(req)}
    assert here == closure(declared(dev))


def test_the_runtime_lock_has_no_dev_tool_and_the_dev_lock_agrees_with_it() -> None:
    runtime, dev = entries("requirements.lock"), entries("requirements-dev.lock")
    assert {"pytest", "ruff", "mypy"}.isdisjoint(runtime)
    assert {name: entry[:2] for name, entry in dev.items() if name in runtime} == {
        name: entry[:2] for name, entry in runtime.items()
    }


def test_the_installed_versions_are_the_locked_ones() -> None:
    for name, (version, _, req) in entries("requirements-dev.lock").items():
        if applies_here(req):
            installed = metadata.version(name)
            assert installed == version, (
                f"{name} {installed} is not the locked {version}: run `make install`"
            )


def install_commands(target: str, tmp_path: Path) -> list[str]:
    """What `make TARGET` would run to install into an empty checkout (make -n)."""
    for name in (
        "Makefile",
        "pyproject.toml",
        *LOCKS,
        "tools/package.json",
        "tools/package-lock.json",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    dry = run(["make", "-n", target, "PYTHON=python3"], tmp_path).stdout
    return [line for line in dry.splitlines() if "pip install" in line]


def test_make_installs_every_third_party_package_with_hashes(tmp_path: Path) -> None:
    commands = install_commands("install", tmp_path)
    assert any("-r requirements-dev.lock" in c for c in commands)
    for command in commands:
        editable_project = "--no-deps" in command and command.endswith("-e .")
        assert "--require-hashes" in command or editable_project, command
        assert "-c " not in command, command
        assert "[dev]" not in command, command


def test_make_repro_installs_the_runtime_only(tmp_path: Path) -> None:
    commands = install_commands("repro", tmp_path)
    assert any("--require-hashes -r requirements.lock" in c for c in commands)
    assert not any("requirements-dev.lock" in c for c in commands)


def test_the_installer_lock_pins_the_makefile_uv_version() -> None:
    (version,) = re.findall(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert {name: entry[0] for name, entry in entries("requirements-uv.lock").items()} == {
        "uv": version
    }
