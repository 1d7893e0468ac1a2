"""The `mergeml` command-line contract: help, exit codes, one-line errors, params commands."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mergeml import __version__
from mergeml.cli import cli
from tests.helpers import mergeml
from tests.projects import ROOT

# Every command the CLI must offer; the walk below must find at least these.
EXPECTED_COMMANDS = {"params compose", "params check", "exp run", "model check"}


def walk(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    """Yield ("params compose", command) for the group and every command below it."""
    yield " ".join(path), command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from walk(sub, (*path, name))


def missing_help(command: click.Command) -> list[str]:
    """Names of the things in ``command`` that have no help text."""
    missing = [] if (command.help or "").strip() else ["<command>"]
    missing += [
        param.name or "?"
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    return missing


COMMANDS = dict(walk(cli))


def stderr_lines(proc) -> list[str]:  # type: ignore[no-untyped-def]
    return proc.stderr.splitlines()


def digest(path: Path) -> dict[str, str]:
    """sha256 of every file under ``path``, by relative name."""
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


# --- help text (STYLE 9) -------------------------------------------------------------------


def test_the_walk_finds_every_expected_command() -> None:
    assert set(COMMANDS) >= EXPECTED_COMMANDS


def test_missing_help_is_detected() -> None:
    @click.command()
    @click.option("--flag", is_flag=True)
    def bare(flag: bool) -> None:
        pass

    assert missing_help(bare) == ["<command>", "flag"]


@pytest.mark.parametrize("name", sorted(COMMANDS), ids=lambda n: n or "mergeml")
def test_every_command_and_option_has_help_text(name: str) -> None:
    assert missing_help(COMMANDS[name]) == []


@pytest.mark.parametrize("name", sorted(COMMANDS), ids=lambda n: n or "mergeml")
def test_help_renders_for_every_command(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"], prog_name="mergeml")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: mergeml {name}".rstrip())
    first_line = (COMMANDS[name].help or "").strip().splitlines()[0]
    assert first_line[:40] in " ".join(result.output.split())


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    proc = mergeml(tmp_path, "--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"mergeml, version {__version__}"
    assert proc.stderr == ""


# --- exit codes and the error boundary (STYLE 8) --------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch"], "No such command 'nosuch'"),
        (["--nosuch"], "No such option"),
        (["params", "compose", "--nosuch"], "No such option"),
        (["exp", "run", "--jobs", "0"], "--jobs"),
        (["model", "check", "--lock"], "--lock"),
        # --traceback is a group option; after a command name it is just an unknown option
        (["params", "check", "--traceback"], "No such option"),
    ],
)
def test_usage_errors_exit_2_with_one_stderr_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    proc = mergeml(tmp_path, *args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    (line,) = stderr_lines(proc)
    assert line.startswith("mergeml: error:")
    assert message in line


@pytest.mark.parametrize("command", [["params", "check"], ["params", "compose"], ["exp", "run"]])
def test_outside_a_project_root_one_line_says_where_to_run(
    tmp_path: Path, command: list[str]
) -> None:
    proc = mergeml(tmp_path, *command)
    assert proc.returncode == 1
    assert proc.stdout == ""
    (line,) = stderr_lines(proc)
    assert line.startswith("mergeml: error:")
    assert "params/config.yaml" in line
    assert "project root" in line
    assert list(tmp_path.iterdir()) == []


# --- params compose / check -----------------------------------------------------------------


@pytest.fixture(scope="module")
def composed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a copy of this repository's params/ and its composed params.yaml."""
    dest = tmp_path_factory.mktemp("params-template")
    shutil.copytree(ROOT / "params", dest / "params")
    proc = mergeml(dest, "params", "compose", check=True)
    assert proc.stdout.strip() == "params.yaml updated"
    return dest


@pytest.fixture
def params_project(composed_template: Path, tmp_path: Path) -> Path:
    """A private copy of ``composed_template``."""
    dest = tmp_path / "proj"
    shutil.copytree(composed_template, dest)
    return dest


def test_a_mergeml_error_is_one_stderr_line_without_traceback(params_project: Path) -> None:
    proc = mergeml(params_project, "params", "compose", "model=nope")
    assert proc.returncode == 1
    assert proc.stdout == ""
    (line,) = stderr_lines(proc)
    assert line.startswith("mergeml: error: unknown option 'nope' for group 'model'")
    assert "Traceback" not in proc.stderr


def test_traceback_flag_shows_the_python_traceback(params_project: Path) -> None:
    proc = mergeml(params_project, "--traceback", "params", "compose", "model=nope")
    assert proc.returncode != 0
    assert "Traceback (most recent call last)" in proc.stderr
    assert "mergeml.errors.ConfigError: unknown option 'nope'" in proc.stderr


def test_check_fails_without_params_yaml_and_compose_writes_it(fresh_project: Path) -> None:
    params_yaml = fresh_project / "params.yaml"
    assert not params_yaml.exists()

    proc = mergeml(fresh_project, "params", "check")
    assert proc.returncode == 1
    (line,) = stderr_lines(proc)
    assert line.startswith("mergeml: error:")
    assert "params.yaml" in line

    proc = mergeml(fresh_project, "params", "compose", check=True)
    assert proc.stdout.strip() == "params.yaml updated"
    written = params_yaml.read_bytes()
    assert written.startswith(b"# GENERATED from params/")

    proc = mergeml(fresh_project, "params", "check", check=True)
    assert proc.stdout.strip() == "params.yaml is current"
    assert proc.stderr == ""

    proc = mergeml(fresh_project, "params", "compose", check=True)
    assert proc.stdout.strip() == "params.yaml unchanged"
    assert params_yaml.read_bytes() == written


def test_check_shows_the_diff_after_a_params_edit_and_compose_fixes_it(
    fresh_project: Path,
) -> None:
    mergeml(fresh_project, "params", "compose", check=True)
    model_file = fresh_project / "params" / "model" / "hist_gradient_boosting.yaml"
    text = model_file.read_text()
    assert "max_iter: 20\n" in text  # the tiny project's value (conftest.TINY)
    model_file.write_text(text.replace("max_iter: 20\n", "max_iter: 25\n"))
    before = (fresh_project / "params.yaml").read_bytes()

    proc = mergeml(fresh_project, "params", "check")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == ["~ model.max_iter: 20 -> 25"]
    (line,) = stderr_lines(proc)
    assert line.startswith("mergeml: error: params.yaml is stale (1 difference(s))")
    assert (fresh_project / "params.yaml").read_bytes() == before  # check writes nothing

    proc = mergeml(fresh_project, "params", "compose", check=True)
    assert proc.stdout.strip() == "params.yaml updated"
    assert "  max_iter: 25\n" in (fresh_project / "params.yaml").read_text()
    proc = mergeml(fresh_project, "params", "check", check=True)
    assert proc.stdout.strip() == "params.yaml is current"


def test_compose_applies_valid_overrides(params_project: Path) -> None:
    proc = mergeml(
        params_project, "params", "compose", "model=logistic_regression", "model.C=0.5", check=True
    )
    assert proc.stdout.strip() == "params.yaml updated"
    text = (params_project / "params.yaml").read_text()
    assert "_target_: sklearn.linear_model.LogisticRegression" in text
    assert "  C: 0.5\n" in text


# --- SECURITY E1: every bad override fails, one stderr line, nothing written -----------------

E1_CASES = [
    (["model=nope"], ["nope"]),
    (["model.foo=1"], ["model.foo"]),
    (["+model.foo=1"], ["model.foo"]),
    (["++seed=3"], ["seed"]),
    (["model.C=[0.1"], ["model.C=[0.1"]),
    (["model=logistic_regression", "model.C=abc"], ["model.C", "abc"]),
    (["data=file"], ["data.path", "???"]),
    (["data.n_rows=abc"], ["data.n_rows", "abc"]),
]


@pytest.mark.parametrize(
    "command",
    [["params", "compose"], ["exp", "run", "--dry-run"]],
    ids=["params-compose", "exp-run-dry-run"],
)
@pytest.mark.parametrize(("overrides", "named"), E1_CASES, ids=[" ".join(c[0]) for c in E1_CASES])
def test_bad_override_fails_with_one_line_and_writes_nothing(
    params_project: Path, command: list[str], overrides: list[str], named: list[str]
) -> None:
    before = digest(params_project)
    proc = mergeml(params_project, *command, *overrides)
    assert proc.returncode != 0
    assert proc.stdout == ""
    (line,) = stderr_lines(proc)
    assert line.startswith("mergeml: error:")
    for text in named:
        assert text in line
    assert digest(params_project) == before
