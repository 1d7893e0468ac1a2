"""Fixtures of the retraining loop tests: a fake GitHub that keeps pull requests, and a
project with a bare origin and a local DVC remote (real git, real DVC, no pipeline run)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import yaml

from tests.fake_http import FakeServer, QuietHandler
from tests.helpers import git
from tests.scm.repos import DVC_YAML

REPO = "acme/shop"
MODEL = "tabular-model"
BRANCH = f"retrain/{MODEL}"


class PullsHandler(QuietHandler):
    """GitHub's pull request endpoints for one repository, kept in ``server.pulls``."""

    server: PullsServer

    def _handle(self) -> None:
        raw = self._receive()
        parts = urlsplit(self.path)
        path = parts.path.removeprefix(f"/repos/{REPO}/")
        payload = json.loads(raw) if raw else {}
        pulls = self.server.pulls
        if self.command == "GET" and path == "pulls":
            head = parse_qs(parts.query).get("head", [""])[0]
            found = [p for p in pulls if f"acme:{p['head']['ref']}" == head]
            self._send(200, found)
        elif self.command == "POST" and path == "pulls":
            number = len(pulls) + 1
            pr = {
                "number": number,
                "state": "open",
                "title": payload["title"],
                "body": payload["body"],
                "head": {"ref": payload["head"]},
                "base": {"ref": payload["base"]},
                "html_url": f"https://github.test/{REPO}/pull/{number}",
                "labels": [],
                "closed_at": None,
                "merged_at": None,
            }
            pulls.append(pr)
            self._send(201, pr)
        elif self.command == "PATCH" and path.startswith("pulls/"):
            pr = pulls[int(path.split("/")[1]) - 1]
            pr.update(payload)
            self._send(200, pr)
        elif self.command == "POST" and path.endswith("/labels"):
            pr = pulls[int(path.split("/")[1]) - 1]
            pr["labels"] += payload["labels"]
            self._send(200, [{"name": n} for n in pr["labels"]])
        else:
            self._send(404, {"message": "Not Found"})


class PullsServer(FakeServer):
    def __init__(self) -> None:
        super().__init__(PullsHandler)
        self.pulls: list[dict[str, Any]] = []


@dataclass(frozen=True)
class Loop:
    root: Path  # the checkout the loop runs in
    origin: Path  # its bare origin
    store: Path  # the DVC remote


def dvc(cwd: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, check=True, capture_output=True)


def make_seed(dest: Path) -> Path:
    """A committed git + DVC project: dvc.yaml naming the model, params/ selecting
    data=synthetic, a default DVC remote `store` (its URL set per copy)."""
    dest.mkdir(parents=True)
    git(dest, "init", "-q", "-b", "main")
    dvc(dest, "init", "-q")
    (dest / ".dvc" / "config").write_text(
        "[core]\n    remote = store\n    analytics = false\n"
        "['remote \"store\"']\n    url = storage\n"
    )
    (dest / "dvc.yaml").write_text(DVC_YAML)
    (dest / "params").mkdir()
    (dest / "params" / "config.yaml").write_text("defaults:\n  - data: synthetic\n  - _self_\n")
    (dest / "params" / "data").mkdir()
    (dest / "params" / "data" / "synthetic.yaml").write_text(
        "source: synthetic\ntarget: is_fraud\nextra_files: []   # appended rows\n"
    )
    (dest / "params.yaml").write_text(yaml.safe_dump({"data": {"target": "is_fraud"}}))
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "project")
    return dest


def make_loop(seed: Path, tmp: Path) -> Loop:
    """A bare origin cloned from ``seed``, a checkout of it, and an empty DVC remote."""
    origin, root, store = tmp / "origin.git", tmp / "work", tmp / "store"
    git(tmp, "clone", "-q", "--bare", str(seed), str(origin))
    git(tmp, "clone", "-q", str(origin), str(root))
    store.mkdir()
    (root / ".dvc" / "config.local").write_text(f"['remote \"store\"']\n    url = {store}\n")
    return Loop(root, origin, store)


def rows(n: int = 20, seed: int = 0) -> pd.DataFrame:
    from mergeml.data.synthetic import generate_transactions

    return generate_transactions(n, seed=seed, positive_rate=0.2)
