"""What a function's deployment installs: its dependency manifest, read without running pip.

`requirements.txt` (pip's format: comments, `\\` continuations, `--hash`, `-r`/`-c` includes,
`-e` and URLs, environment markers), `pyproject.toml` `[project] dependencies` and Poetry's
`[tool.poetry.dependencies]`, `Pipfile` `[packages]`. Requirement lines are parsed with
`packaging` (the library pip itself vendors), so names, extras and markers mean what pip reads.
Cached per file text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handlerlens.core.text import read_text
from handlerlens.deploy.dists import canonical

MANIFEST_NAMES = ("requirements.txt", "pyproject.toml", "Pipfile")
# What the editor watches for these checks (pyproject.toml is a declaring file, watched as one);
# `requirements*.txt` also covers the usual names of `-r` includes (requirements-dev.txt).
WATCH_GLOBS = ("**/requirements*.txt", "**/Pipfile")
_MAX_INCLUDES = 50
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
# `name @ url` is a requirement; a bare URL or path names nothing pip tells us here.
_OPTION = re.compile(r"^(-[A-Za-z]|--[a-z-]+)(?:[ =]\s*(.*))?$")


@dataclass
class Manifest:
    """The distributions a manifest installs (canonical names), and what it could not name."""

    files: list[str] = field(default_factory=list)  # the manifests read (includes too)
    names: set[str] = field(default_factory=set)
    unnamed: list[str] = field(default_factory=list)  # URLs, paths: installs something unknown
    invalid: list[str] = field(default_factory=list)  # lines pip would reject
    stamps: dict[str, object] = field(default_factory=dict)  # included files, as read


def _environment(version: tuple[int, int]) -> dict[str, str]:
    """Marker values on the platform's Linux x86_64 CPython of `version`."""
    v = f"{version[0]}.{version[1]}"
    return {
        "python_version": v,
        "python_full_version": f"{v}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "extra": "",
    }


def _add_requirement(text: str, out: Manifest, version: tuple[int, int] | None) -> None:
    # (imported here: a `check` whose manifests come from its parse cache never needs them)
    from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement:
        out.invalid.append(text)
        return
    if req.marker is not None and version is not None:
        try:
            if not req.marker.evaluate(_environment(version)):
                return  # not installed on this runtime
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            pass
    out.names.add(canonical(req.name))


def _logical_lines(text: str) -> list[str]:
    """pip's lines: comments dropped (a `#` at the start or after whitespace), continuations
    joined."""
    joined: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw)
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append((pending + line).strip())
        pending = ""
    if pending.strip():
        joined.append(pending.strip())
    return [line for line in joined if line]


def read_requirements(
    path: str,
    out: Manifest,
    version: tuple[int, int] | None,
    seen: set[str] | None = None,
    text: str | None = None,
    read: Callable[[str], str | None] = read_text,
) -> None:
    """Add what `path` installs to `out`, following `-r` includes (a loop is read once);
    `read` reads a file's text (`text`, when given, is `path`'s)."""
    seen = set() if seen is None else seen
    try:
        real = os.path.realpath(path)
        body = read(path) if text is None else text
    except (OSError, ValueError):  # a NUL in an `-r` name: pip cannot open it either
        out.invalid.append(path)
        return
    if real in seen or len(seen) >= _MAX_INCLUDES:
        return
    seen.add(real)
    if body is None:
        return
    out.files.append(path)
    folder = os.path.dirname(path)
    for line in _logical_lines(body):
        option = _OPTION.match(line)
        if option is not None:
            flag, value = option.group(1), (option.group(2) or "").strip()
            if flag in ("-r", "--requirement") and value:
                read_requirements(os.path.join(folder, value), out, version, seen, read=read)
            elif flag in ("-e", "--editable") and value:
                _add_target(value, out, version)
            # -c constraints install nothing; -i, --hash, --find-links… are pip options.
            continue
        # `pkg==1.0 --hash=sha256:…`: options after the requirement are pip's.
        line = re.split(r"\s+--?[a-z]", line, maxsplit=1)[0].strip()
        _add_target(line, out, version)


def _add_target(value: str, out: Manifest, version: tuple[int, int] | None) -> None:
    egg = _EGG.search(value)
    if egg is not None:
        out.names.add(canonical(egg.group(1)))
        return
    if (
        "://" in value.split("@", 1)[0]
        or value.startswith((".", "/", "file:"))
        or (value.endswith((".whl", ".tar.gz", ".zip")) and "@" not in value)
    ):
        out.unnamed.append(value)
        return
    _add_requirement(value, out, version)


def read_pyproject(path: str, out: Manifest, version: tuple[int, int] | None) -> bool:
    """Dependencies of `[project]` or Poetry; False when the file declares none."""
    data = _toml(path)
    if data is None:
        return False
    found = False
    project = data.get("project")
    deps = project.get("dependencies") if isinstance(project, dict) else None
    if isinstance(deps, list):
        found = True
        for item in deps:
            if isinstance(item, str):
                _add_target(item, out, version)
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict):
        found = True
        for name in poetry["dependencies"]:
            if isinstance(name, str) and name.lower() != "python":
                out.names.add(canonical(name))
    if found:
        out.files.append(path)
    return found


def _toml(path: str) -> dict[str, Any] | None:
    from handlerlens.project.toml_compat import TOMLDecodeError, loads

    text = read_text(path)
    if text is None:
        return None
    try:
        data = loads(text)
    except (TOMLDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def read_pipfile(path: str, out: Manifest) -> bool:
    """`[packages]` of a Pipfile (what serverless-python-requirements installs)."""
    data = _toml(path)
    packages = data.get("packages") if data is not None else None
    if not isinstance(packages, dict):
        return False
    out.files.append(path)
    for name in packages:
        if isinstance(name, str):
            out.names.add(canonical(name))
    return True
