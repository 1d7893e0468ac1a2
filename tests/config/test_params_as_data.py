"""Parameter files are data: bounded YAML, one-line syntax errors, no resolvers (issue 10).

Items 2, 3 and 10 of the trust-boundary issue, each reproduced through the real CLI.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml

from mergeml.config.paramfiles import outside_reference
from mergeml.errors import YamlLimitError
from mergeml.yamlread import MAX_ALIAS_NODES, parse_yaml
from tests.helpers import dvc, git, make_project, mergeml

ROOT = Path(__file__).resolve().parents[2]


def alias_bomb(levels: int = 8) -> str:
    """About 300 bytes of YAML that expand to 9**(levels + 1) scalars."""
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(levels):
        prev, name = chr(97 + i), chr(98 + i)
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


def params_copy(tmp_path: Path) -> Path:
    """A project directory holding a copy of this repository's params/ (no git needed)."""
    shutil.copytree(ROOT / "params", tmp_path / "params")
    return tmp_path


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- 3: every YAML read is bounded -----------------------------------------------------


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    started = time.monotonic()
    with pytest.raises(YamlLimitError, match=r"params\.yaml at abc: YAML aliases expand"):
        parse_yaml(alias_bomb(), "params.yaml at abc")
    assert time.monotonic() - started < 1


def test_aliases_within_the_bound_still_read() -> None:
    text = "base: &base {a: 1, b: [1, 2]}\nother: *base\n"
    assert parse_yaml(text, "x") == {"base": {"a": 1, "b": [1, 2]}, "other": {"a": 1, "b": [1, 2]}}
    wide = "a: &a [" + ",".join(["1"] * (MAX_ALIAS_NODES // 2)) + "]\nb: *a\n"
    assert len(parse_yaml(wide, "x")["b"]) == MAX_ALIAS_NODES // 2


def test_a_recursive_alias_and_deep_nesting_are_one_line_errors() -> None:
    with pytest.raises(YamlLimitError, match="refers to itself"):
        parse_yaml("a: &a [*a]\n", "x")
    with pytest.raises(YamlLimitError, match="nests deeper"):
        parse_yaml("[" * 1000 + "]" * 1000, "x")


def test_dvc_lock_strings_stay_strings() -> None:
    assert parse_yaml("md5: 0123456789\n", "dvc.lock", strings=True) == {"md5": "0123456789"}


@pytest.mark.parametrize("command", [["report", "--base", "HEAD~1", "--head", "HEAD"], ["card"]])
def test_report_and_card_refuse_an_alias_bomb_at_a_ref_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    repo = make_project(tmp_path / "repo")
    (repo / "params.yaml").write_text(alias_bomb(), encoding="utf-8")
    git(repo, "add", "params.yaml")
    git(repo, "commit", "-q", "-m", "a 300-byte params.yaml with a billion nodes")
    started = time.monotonic()
    proc = mergeml(repo, *command)
    assert time.monotonic() - started < 30
    assert proc.returncode != 0
    line = one_error_line(proc.stderr)
    assert "params.yaml at" in line
    assert "aliases expand" in line


def test_an_alias_bomb_under_params_is_refused_before_hydra(tmp_path: Path) -> None:
    project = params_copy(tmp_path)
    (project / "params" / "split" / "default.yaml").write_text(alias_bomb(), encoding="utf-8")
    proc = mergeml(project, "params", "compose")
    assert proc.returncode != 0
    assert "params/split/default.yaml: YAML aliases expand" in one_error_line(proc.stderr)
    assert not (project / "params.yaml").exists()


# --- 10: a YAML syntax error is one line with file, line and column ---------------------

SYNTAX_ERRORS = {
    "flow": ("test_size: [oops\n", "params/split/default.yaml:2:1: invalid YAML: did not find"),
    "tab": (
        "test_size: 0.2\nstratify:\n\ttrue\n",
        "params/split/default.yaml:3:1: invalid YAML: a tab",
    ),
}


@pytest.mark.parametrize("case", sorted(SYNTAX_ERRORS))
@pytest.mark.parametrize("command", [["params", "compose"], ["params", "check"]])
def test_a_syntax_error_in_params_is_one_line(
    tmp_path: Path, case: str, command: list[str]
) -> None:
    project = params_copy(tmp_path)
    text, expected = SYNTAX_ERRORS[case]
    (project / "params" / "split" / "default.yaml").write_text(text, encoding="utf-8")
    proc = mergeml(project, *command)
    assert proc.returncode != 0
    assert expected in one_error_line(proc.stderr)
    assert not (project / "params.yaml").exists()


@pytest.mark.pipeline
def test_dvc_repro_and_exp_run_report_a_syntax_error_without_a_traceback(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "repo")
    (repo / "params" / "model" / "broken.yaml").write_text("max_iter: [oops\n", encoding="utf-8")
    proc = dvc(repo, "repro", check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output
    assert "params/model/broken.yaml:2:1: invalid YAML" in output
    exp = mergeml(repo, "exp", "run", "--dry-run")
    assert exp.returncode != 0
    assert "params/model/broken.yaml:2:1: invalid YAML" in one_error_line(exp.stderr)


# --- 2: no interpolation reaches outside the config --------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "${oc.env:PATH}",
        "x-${oc.env:HOME,/}",
        "${hydra:runtime.cwd}",
        "${oc.decode:'1'}",
        "${a.${b}}",
    ],
)
def test_resolvers_are_outside_references(text: str) -> None:
    assert outside_reference(text) is not None


@pytest.mark.parametrize(
    "text", ["${data.target}", "${.sibling}", "${..up.key}", "${a[0]}", "plain"]
)
def test_plain_references_are_allowed(text: str) -> None:
    assert outside_reference(text) is None


def test_an_env_resolver_in_an_override_never_reaches_params_yaml(tmp_path: Path) -> None:
    project = params_copy(tmp_path)
    proc = mergeml(project, "params", "compose", "data.target=${oc.env:PATH}")
    assert proc.returncode != 0
    line = one_error_line(proc.stderr)
    assert "override 'data.target=${oc.env:PATH}'" in line
    assert "'${oc.env:PATH}'" in line
    assert not (project / "params.yaml").exists()


def test_an_env_resolver_in_a_params_file_is_refused_with_its_key(tmp_path: Path) -> None:
    project = params_copy(tmp_path)
    data = project / "params" / "data" / "synthetic.yaml"
    doc = yaml.safe_load(data.read_text(encoding="utf-8"))
    doc["target"] = "${oc.env:PATH}"
    data.write_text(yaml.safe_dump(doc), encoding="utf-8")
    proc = mergeml(project, "params", "compose")
    assert proc.returncode != 0
    line = one_error_line(proc.stderr)
    assert line.endswith(
        "params/data/synthetic.yaml: target: interpolation '${oc.env:PATH}' reaches outside"
        " the parameters; only references to other keys like ${data.target} are allowed"
    ), line
    assert not (project / "params.yaml").exists()


def test_a_plain_reference_still_composes(tmp_path: Path) -> None:
    project = params_copy(tmp_path)
    proc = mergeml(project, "params", "compose", "seed=700", "data.n_rows=${seed}")
    assert proc.returncode == 0, proc.stderr
    composed = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    assert composed["data"]["seed"] == composed["data"]["n_rows"] == 700


def test_hydra_settings_in_params_are_refused(tmp_path: Path) -> None:
    project = params_copy(tmp_path)
    config = project / "params" / "config.yaml"
    extra = "hydra:\n  searchpath: [file:///etc]\n"
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    proc = mergeml(project, "params", "compose")
    assert proc.returncode != 0
    assert "'hydra' settings are not accepted" in one_error_line(proc.stderr)
