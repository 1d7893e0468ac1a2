"""The promotion policy: which stages exist and which stage must come before another.

It lives in `pyproject.toml` under `[tool.mergeml.promotion]` and is read from the
remote's `main` branch, never from the working tree: the policy that applies is the one
that was reviewed and merged, not one edited in a local checkout. A repository without
the section gets the default (staging, then production).
"""

from __future__ import annotations

import re
import tomllib
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mergeml.config.schema import parse_section
from mergeml.errors import ConfigError
from mergeml.scm import Git

STAGE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$")  # GTO's stage names


class Policy(BaseModel):
    """Stages promote may assign, and `requires[stage]` = the stage a version needs first."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    stages: Annotated[tuple[str, ...], Field(strict=False, min_length=1)] = (
        "staging",
        "production",
    )
    requires: dict[str, str] = Field(default_factory=lambda: {"production": "staging"})

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        for name in self.stages:
            if not STAGE_NAME.match(name):
                raise ValueError(f"stage name '{name}' is not valid (lowercase, digits, - or _)")
        if len(set(self.stages)) != len(self.stages):
            raise ValueError("stages are listed twice")
        for later, earlier in self.requires.items():
            for name in (later, earlier):
                if name not in self.stages:
                    raise ValueError(f"requires names '{name}', which is not in stages")
            seen = {later}
            while earlier in self.requires:  # walk the chain: a cycle could never be met
                if earlier in seen:
                    raise ValueError(f"requires has a cycle through '{earlier}'")
                seen.add(earlier)
                earlier = self.requires[earlier]
            if earlier in seen:
                raise ValueError(f"requires has a cycle through '{earlier}'")
        return self


def parse_policy(text: str | None, where: str) -> Policy:
    """The policy in a pyproject.toml text (the default when the file or section is absent)."""
    if not text:
        return Policy()
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    section = doc.get("tool", {}).get("mergeml", {}).get("promotion")
    if section is None:
        return Policy()
    return parse_section(Policy, section, where=where, prefix="tool.mergeml.promotion")


def load_policy(repo: Git, remote: str) -> Policy:
    """The policy on ``remote``'s main branch (fetched by the caller)."""
    ref = f"{remote}/main"
    return parse_policy(repo.read_text(ref, "pyproject.toml"), f"pyproject.toml on {ref}")
