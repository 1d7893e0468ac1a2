"""Parameter files run no code: every `_target_` is checked against an allow-list (issue 10, 1).

A nested `_target_` (the `estimator:` of a meta-estimator) used to be instantiated by
Hydra whatever it named: `builtins.open` created a file during `params compose`. Each
reproduction runs the real CLI (or the real `dvc repro`) in a scratch repository.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mergeml.config.targets import DEFAULT_TARGETS, check_targets, is_allowed, parse_targets
from mergeml.errors import ConfigError
from tests.helpers import dvc, git, make_project, mergeml

ROOT = Path(__file__).resolve().parents[2]

BAGGING = """\
_target_: sklearn.ensemble.BaggingClassifier
n_estimators: 2
random_state: ${seed}
estimator:
  _target_: %s
  _args_: %s
"""
SAFE_BAGGING = """\
_target_: sklearn.ensemble.BaggingClassifier
n_estimators: 2
random_state: ${seed}
estimator:
  _target_: sklearn.tree.DecisionTreeClassifier
  max_depth: 3
"""
# A model whose random_state is a numpy object: allowed only once `numpy.random.` is.
NUMPY_FOREST = """\
_target_: sklearn.ensemble.RandomForestClassifier
n_estimators: 5
random_state:
  _target_: numpy.random.RandomState
  seed: 3
"""
EXTENSION = '[tool.mergeml.params]\ntargets = ["numpy.random."]\n'


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def params_repo(path: Path, model: str | None = None, text: str = "") -> Path:
    """A git repository holding this project's params/ (committed), and model ``model``."""
    path.mkdir(parents=True)
    shutil.copytree(ROOT / "params", path / "params")
    if model is not None:
        (path / "params" / "model" / f"{model}.yaml").write_text(text)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "params")
    return path


def use_model(repo: Path, model: str) -> None:
    """Make ``model`` the default choice in params/config.yaml (uncommitted)."""
    config = repo / "params" / "config.yaml"
    text = config.read_text()
    config.write_text(text.replace("model: hist_gradient_boosting", f"model: {model}"))


# --- the reproductions, through the CLI --------------------------------------------------

ATTACKS = {
    "open": ("builtins.open", '["{out}", "w"]'),
    "copyfile": ("shutil.copyfile", '["{src}", "{out}"]'),
    "makedirs": ("os.makedirs", '["{out}"]'),
}


@pytest.mark.parametrize(
    ("command", "attack"),
    [("compose", "open"), ("compose", "copyfile"), ("compose", "makedirs"), ("check", "open")],
)
def test_a_nested_target_outside_the_allow_list_runs_nothing(
    tmp_path: Path, attack: str, command: str
) -> None:
    out = tmp_path / "created"
    target, args = ATTACKS[attack]
    args = args.format(out=out, src=ROOT / "README.md")
    repo = params_repo(tmp_path / "repo", "bagging", BAGGING % (target, args))
    use_model(repo, "bagging")
    proc = mergeml(repo, "params", command)
    assert proc.returncode != 0
    line = one_error_line(proc.stderr)
    assert f"model.estimator._target_: '{target}' is not allowed" in line
    assert "allowed: sklearn., mergeml." in line
    assert "[tool.mergeml.params] targets" in line
    assert not out.exists()
    assert not (repo / "params.yaml").exists()


def test_the_override_of_the_issue_is_refused_too(tmp_path: Path) -> None:
    out = tmp_path / "x"
    repo = params_repo(tmp_path / "repo", "bagging", BAGGING % ("builtins.open", f'["{out}", "w"]'))
    proc = mergeml(repo, "params", "compose", "model=bagging")
    assert proc.returncode != 0
    assert "model.estimator._target_: 'builtins.open'" in one_error_line(proc.stderr)
    assert not out.exists()


def test_an_allowed_nested_estimator_still_composes(tmp_path: Path) -> None:
    repo = params_repo(tmp_path / "repo", "bagging", SAFE_BAGGING)
    mergeml(repo, "params", "compose", "model=bagging", check=True)
    text = (repo / "params.yaml").read_text()
    assert "_target_: sklearn.tree.DecisionTreeClassifier" in text
    # and its own arguments are checked with scikit-learn's rules, naming the step
    bad = SAFE_BAGGING.replace("max_depth: 3", "max_depth: -3")
    (repo / "params" / "model" / "bagging.yaml").write_text(bad)
    proc = mergeml(repo, "params", "compose", "model=bagging")
    assert proc.returncode != 0
    assert one_error_line(proc.stderr).startswith(
        "mergeml: error: model.estimator: The 'max_depth'"
    )


@pytest.mark.pipeline
def test_the_train_stage_checks_before_it_builds(tmp_path: Path) -> None:
    """params.yaml is written by the compose stage, which imports no estimator: train checks."""
    out = tmp_path / "x"
    project = make_project(tmp_path / "project")
    (project / "params" / "model" / "bagging.yaml").write_text(
        BAGGING % ("builtins.open", f'["{out}", "w"]')
    )
    use_model(project, "bagging")
    proc = dvc(project, "repro", check=False)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("mergeml: error:")]
    assert len(errors) == 1, proc.stderr
    assert "model.estimator._target_: 'builtins.open' is not allowed" in errors[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert not (project / "models" / "model.skops").exists()
    # an allowed nested estimator trains
    (project / "params" / "model" / "bagging.yaml").write_text(SAFE_BAGGING)
    dvc(project, "repro")
    assert (project / "models" / "model.skops").is_file()


# --- the extension: read from the reviewed branch -------------------------------------------


def test_the_extension_is_read_from_origin_main_not_the_working_tree(tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    repo = params_repo(tmp_path / "repo", "numpy_forest", NUMPY_FOREST)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    # an uncommitted edit extends nothing ...
    (repo / "pyproject.toml").write_text(EXTENSION)
    proc = mergeml(repo, "params", "compose", "model=numpy_forest")
    assert "model.random_state._target_: 'numpy.random.RandomState' is not allowed" in (
        one_error_line(proc.stderr)
    )
    # ... nor does a commit that is not on origin/main (a pull request's branch) ...
    git(repo, "add", "pyproject.toml")
    git(repo, "commit", "-q", "-m", "extend the allow-list")
    proc = mergeml(repo, "params", "compose", "model=numpy_forest")
    assert proc.returncode != 0
    assert "on main" in one_error_line(proc.stderr)
    # ... once merged to origin/main, it applies
    git(repo, "push", "-q", "origin", "main")
    mergeml(repo, "params", "compose", "model=numpy_forest", check=True)
    assert "numpy.random.RandomState" in (repo / "params.yaml").read_text()


def test_a_repository_without_origin_reads_its_committed_head(tmp_path: Path) -> None:
    repo = params_repo(tmp_path / "repo", "numpy_forest", NUMPY_FOREST)
    (repo / "pyproject.toml").write_text(EXTENSION)
    assert mergeml(repo, "params", "compose", "model=numpy_forest").returncode != 0
    git(repo, "add", "pyproject.toml")
    git(repo, "commit", "-q", "-m", "extend the allow-list")
    mergeml(repo, "params", "compose", "model=numpy_forest", check=True)


def test_outside_git_only_the_defaults_apply(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "params", tmp_path / "params")
    (tmp_path / "params" / "model" / "numpy_forest.yaml").write_text(NUMPY_FOREST)
    (tmp_path / "pyproject.toml").write_text(EXTENSION)
    proc = mergeml(tmp_path, "params", "compose", "model=numpy_forest")
    assert "'numpy.random.RandomState' is not allowed" in one_error_line(proc.stderr)
    mergeml(tmp_path, "params", "compose", check=True)  # the default model is allowed


# --- the rules themselves ---------------------------------------------------------------------


def test_prefixes_match_whole_dotted_names() -> None:
    assert is_allowed("sklearn.ensemble.BaggingClassifier", DEFAULT_TARGETS)
    assert not is_allowed("sklearnx.Foo", DEFAULT_TARGETS)
    assert not is_allowed("sklearn", DEFAULT_TARGETS)
    assert is_allowed("xgboost.XGBClassifier", ["xgboost.XGBClassifier"])
    assert is_allowed("xgboost.XGBClassifier.inner", ["xgboost.XGBClassifier"])
    assert not is_allowed("xgboost.XGBClassifierX", ["xgboost.XGBClassifier"])


@pytest.mark.parametrize(
    ("node", "where"),
    [
        ({"_target_": "os.system"}, "model._target_"),
        ({"steps": [["a", {"_target_": "subprocess.Popen"}]]}, "model.steps[0][1]._target_"),
        ({"a": {"b": {"_target_": "sklearnx.Foo"}}}, "model.a.b._target_"),
        ({"_target_": "sklearn._loss.Foo"}, "model._target_"),  # private names
        ({"_target_": ["sklearn.Foo"]}, "model._target_"),
        (
            {"e": {"_target_": "sklearn.tree.DecisionTreeClassifier", "_partial_": True}},
            "model.e._partial_",
        ),
        ({"_args_": ["/tmp/x"]}, "model._args_"),
        ({"_recursive_": False}, "model._recursive_"),
    ],
)
def test_every_node_is_checked(node: dict, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_targets(node, "model", DEFAULT_TARGETS)
    assert str(caught.value).startswith(f"{where}: ")


def test_a_name_that_reaches_another_package_is_refused(tmp_path: Path) -> None:
    """`sklearn.base.np` is numpy, imported by sklearn.base: the prefix alone is not enough."""
    text = SAFE_BAGGING.replace("sklearn.tree.DecisionTreeClassifier", "sklearn.base.np.memmap")
    repo = params_repo(tmp_path / "repo", "bagging", text.replace("max_depth: 3", "shape: [1]"))
    proc = mergeml(repo, "params", "compose", "model=bagging")
    assert "'sklearn.base.np.memmap' is not a class of the package 'sklearn'" in one_error_line(
        proc.stderr
    )
    func = "sklearn.datasets.dump_svmlight_file"
    (repo / "params" / "model" / "bagging.yaml").write_text(
        SAFE_BAGGING.replace("sklearn.tree.DecisionTreeClassifier", func).replace(
            "max_depth: 3", f"f: {tmp_path}/f"
        )
    )
    proc = mergeml(repo, "params", "compose", "model=bagging")
    assert f"'{func}' is not a class" in one_error_line(proc.stderr)
    assert not (tmp_path / "f").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tool.mergeml.params]\ntargets = "xgboost."\n', "must be a list"),
        ('[tool.mergeml.params]\ntargets = ["xgboost.*"]\n', "'xgboost.*' is not a dotted prefix"),
        ("[tool.mergeml.params\n", "not valid TOML"),
    ],
)
def test_a_bad_extension_is_one_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_targets(text, "pyproject.toml on origin/main")


def test_the_extension_adds_to_the_defaults() -> None:
    assert parse_targets(None, "x") == DEFAULT_TARGETS
    assert parse_targets("[project]\nname = 'p'\n", "x") == DEFAULT_TARGETS
    assert parse_targets(EXTENSION, "x") == (*DEFAULT_TARGETS, "numpy.random.")
