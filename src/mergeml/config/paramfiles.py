"""The files under params/ are data: read bounded, and no interpolation leaves the config.

Hydra reads these files itself. Before it does, each one is read here so that a syntax
error is one line with file, line and column, an alias bomb is refused before OmegaConf
expands it, and an interpolation that would reach outside the configuration (the
environment through `${oc.env:...}`, any other resolver, Hydra's own `${hydra:...}`) is
refused. Plain references to other keys (`${data.target}`, `${.sibling}`) stay allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from mergeml.errors import ConfigError
from mergeml.yamlread import problem, read_yaml

# `${a.b}`, `${.a}`, `${..a.b}`, `${a[0]}`: a reference to a key, and nothing else.
_REFERENCE = re.compile(r"\$\{\s*\.*[A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*\s*\}")
_ESCAPED = re.compile(r"\\\$\{")
# Top-level keys that make Hydra look outside params/ (search path) or act on the machine.
_REFUSED_KEYS = ("hydra",)


def display(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file, bounded; ConfigError naming the file when missing or malformed."""
    where = display(path)
    try:
        return read_yaml(path)
    except FileNotFoundError as exc:
        raise ConfigError(f"{where} not found") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where} is not UTF-8 text (byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(problem(exc, where, _text_or_none(path))) from exc


def _text_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def outside_reference(text: str) -> str | None:
    """The interpolation in ``text`` that is not a plain key reference, if any."""
    rest = _REFERENCE.sub("", _ESCAPED.sub("", text))
    start = rest.find("${")
    if start < 0:
        return None
    end = rest.find("}", start)
    return rest[start : end + 1] if end >= 0 else rest[start:]


def _strings(doc: Any, key: str) -> Iterator[tuple[str, str]]:
    """(dotted key, string) for every string value in ``doc``."""
    if isinstance(doc, str):
        yield key, doc
    elif isinstance(doc, Mapping):
        for name, value in doc.items():
            yield from _strings(value, f"{key}.{name}" if key else str(name))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _strings(value, f"{key}[{i}]")


def refuse_outside(doc: Any, where: str) -> None:
    """ConfigError naming the key whose value interpolates something outside the config."""
    for key, text in _strings(doc, ""):
        found = outside_reference(text)
        if found is not None:
            at = f"{where}: {key}" if key else where
            raise ConfigError(
                f"{at}: interpolation '{found}' reaches outside the parameters;"
                " only references to other keys like ${data.target} are allowed"
            )


def check_params_tree(params_dir: Path) -> None:
    """Read every YAML file under ``params_dir`` as data before Hydra composes them."""
    for path in sorted(params_dir.rglob("*.yaml")):
        if not path.is_file():
            continue
        doc = load_yaml(path)
        where = display(path)
        if isinstance(doc, Mapping):
            for key in _REFUSED_KEYS:
                if key in doc:
                    raise ConfigError(
                        f"{where}: '{key}' settings are not accepted in params/"
                        " (they configure Hydra itself, not the model)"
                    )
        refuse_outside(doc, where)


def check_override_value(text: str) -> None:
    """ConfigError when a command-line override interpolates something outside the config."""
    _key, sep, value = text.partition("=")
    refuse_outside(value if sep else text, f"override '{text}'")
