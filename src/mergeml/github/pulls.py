"""Pull requests through the GitHub REST API, for `mergeml retrain`: find the ones of a
head branch, open one, replace its body, label it. It never merges or closes anything.

The token is ``MERGEML_GITHUB_TOKEN`` when set (a GitHub App installation token or a
fine-grained token: a pull request opened with it triggers CI), else ``GITHUB_TOKEN``
(whose pull requests and pushes trigger no workflow run).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from mergeml.errors import GitHubError
from mergeml.github.comment import GitHubClient, check_number, check_repo, check_text
from mergeml.review.report import MAX_BODY

TOKEN_VARIABLES = ("MERGEML_GITHUB_TOKEN", "GITHUB_TOKEN")
MAX_TITLE = 256


def pr_token(env: Mapping[str, str] = os.environ) -> str | None:
    """The first non-empty of ``MERGEML_GITHUB_TOKEN`` and ``GITHUB_TOKEN``, or None."""
    for name in TOKEN_VARIABLES:
        token = env.get(name, "").strip()
        if token:
            return token
    return None


def _as_pull(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or type(data.get("number")) is not int:
        raise GitHubError("unexpected pull request object from GitHub")
    return data


def find_pulls(client: GitHubClient, repo: str, branch: str) -> list[dict[str, Any]]:
    """Every pull request (open or closed) whose head is ``branch`` of ``repo`` itself."""
    owner = check_repo(repo).split("/")[0]
    head = quote(f"{owner}:{branch}", safe="")
    pulls = client.repo_list(repo, f"pulls?state=all&head={head}&per_page=100")
    ours = [p for p in pulls if (p.get("head") or {}).get("ref", branch) == branch]
    return [_as_pull(p) for p in ours]


def create_pull(
    client: GitHubClient, repo: str, *, head: str, base: str, title: str, body: str
) -> dict[str, Any]:
    """Open a pull request of ``head`` into ``base``; GitHub's pull request object."""
    payload = {
        "title": check_text(title, "pull request title", MAX_TITLE),
        "head": head,
        "base": base,
        "body": check_text(body, "pull request body", MAX_BODY),
        "maintainer_can_modify": True,
    }
    return _as_pull(client.repo_request("POST", repo, "pulls", payload))


def update_body(client: GitHubClient, repo: str, number: int, body: str) -> dict[str, Any]:
    """Replace the body of pull request ``number``."""
    path = f"pulls/{check_number(number)}"
    payload = {"body": check_text(body, "pull request body", MAX_BODY)}
    return _as_pull(client.repo_request("PATCH", repo, path, payload))


def add_label(client: GitHubClient, repo: str, number: int, label: str) -> None:
    """Add ``label`` to pull request ``number`` (GitHub creates the label if it is new)."""
    path = f"issues/{check_number(number)}/labels"
    client.repo_request("POST", repo, path, {"labels": [check_text(label, "label", 50)]})
