"""The functions a project declares, as the runner finds and names them: the project model
read at most once (and only when a target needs it), the names they are served under where two
share one (`svc-a/hello`, `svc-a/serverless.yml/hello`), and the messages that list them.

`serve`, `invoke` (through targets.py) and `handlerlens test` (replay/events.py) read functions
this way; like targets.py, it loads the project reader and difflib only when it must.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class TargetError(Exception):
    """A target that cannot be resolved; the message is for the user."""


class DeclaredProject:
    """The project model under a root, read at most once and only when a target needs it."""

    def __init__(self, root: str, platform: str | None) -> None:
        self.root = root
        self.platform = platform
        self.model: Any = None
        self._read = False

    def specs(self, *, for_entry: bool = False) -> list[Any]:
        """Every declared (or guessed) function. With `for_entry`, [] without reading the
        model when nothing under the root can declare a function: what the model would add
        is its heuristic guess, which says no more than an entry point does (and loading the
        model is most of what `invoke` spends before the handler)."""
        if not self._read:
            if for_entry and not self._may_declare():
                return []
            self._read = True
            from handlerlens.project import discover

            try:
                self.model = discover(self.root, platform_setting=self.platform)
            except Exception as exc:  # never a traceback for the user's project
                raise TargetError(
                    f"could not read the project's function declarations: {exc}"
                ) from exc
        return list(self.model.functions) if self.model is not None else []

    def _may_declare(self) -> bool:
        try:
            from handlerlens.project.walk import config_kind, walk_project
        except ImportError:
            return False
        return any(config_kind(path) for path in walk_project(self.root)[0])

    def declared_platform(self) -> str | None:
        """The platform every declared function says, when they all say one."""
        platforms = {s.platform for s in self.specs() if s.declared_by != "heuristic"}
        return platforms.pop() if len(platforms) == 1 else None

    def parse_errors(self) -> list[str]:
        """`check`'s lines for the declaring files that do not parse (read ones only)."""
        if self.model is None:
            return []
        from handlerlens.project.config_problems import CONFIG_PARSE_ERROR

        broken = [p for p in self.model.problems if p.code == CONFIG_PARSE_ERROR]
        if not broken:
            return []
        from handlerlens.check import text_line

        return [text_line(p) for p in broken]

    def qualified(self, spec: Any) -> str:
        """`svc-a/hello`: the folder of the declaring file (relative to the root), then the
        name; at the root itself, the declaring file's name (`serverless.yml/hello`). A guessed
        function's name already starts with its folder (`svc/main.handler`)."""
        if spec.declared_in is None:
            return str(spec.name)
        folder = os.path.relpath(os.path.dirname(spec.declared_in), self.root)
        if folder == ".":
            folder = os.path.basename(spec.declared_in)
        return f"{_slashed(folder)}/{spec.name}"

    def file_qualified(self, spec: Any) -> str:
        """`svc-a/serverless.yml/hello`: the declaring file (relative to the root), the name."""
        if spec.declared_in is None:
            return self.qualified(spec)
        return f"{_slashed(os.path.relpath(spec.declared_in, self.root))}/{spec.name}"

    def where(self, spec: Any) -> str:
        """Where a function is declared, for a message: the file relative to the current
        directory (as `check` names it), or its entry point for a guessed one."""
        if spec.declared_in is None:
            return f"guessed from {spec.entry}"
        return relative(spec.declared_in)


def not_runnable(spec: Any) -> str | None:
    """Why a declared function cannot be served (its code is no folder), or None."""
    if spec.inline_code is not None:
        return f"'{spec.name}' is inline code in {spec.declared_in}"
    if spec.archive is not None:
        return f"the code of '{spec.name}' is the archive {spec.archive}"
    return None


def _slashed(path: str) -> str:
    return path.replace(os.sep, "/")


def relative(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def served_names(project: DeclaredProject, specs: list[Any]) -> dict[int, str]:
    """The name each spec is served under: its own, or its qualified name where another
    chosen function shares it (the file-qualified one where even that is shared)."""
    counts: dict[str, int] = {}
    for spec in specs:
        counts[spec.name] = counts.get(spec.name, 0) + 1
    names = {id(s): s.name if counts[s.name] == 1 else project.qualified(s) for s in specs}
    taken: dict[str, int] = {}
    for name in names.values():
        taken[name] = taken.get(name, 0) + 1
    for spec in specs:
        if taken[names[id(spec)]] > 1:
            names[id(spec)] = project.file_qualified(spec)
    return names


def declared_list(project: DeclaredProject, specs: list[Any]) -> str:
    names = served_names(project, specs)
    return ", ".join(sorted(names[id(s)] for s in specs)) or "none"


def near_name(target: str, specs: list[Any]) -> str:
    """ " Did you mean 'hello'?" for a mistyped function name; "" when none is close."""
    import difflib

    near = difflib.get_close_matches(target, sorted({s.name for s in specs}), n=1)
    return f". Did you mean '{near[0]}'?" if near else ""


def with_parse_errors(message: str, project: DeclaredProject) -> str:
    errors = project.parse_errors()
    if not errors:
        return message
    files = "file does" if len(errors) == 1 else "files do"
    return "\n".join([f"{message}. A declaring {files} not parse:", *errors])


def by_name(project: DeclaredProject, specs: list[Any], target: str) -> list[Any]:
    """The functions `target` names: a name, `folder/name` or `folder/file/name`."""
    found = [s for s in specs if s.name == target]
    if found or "/" not in target:
        return found
    return [s for s in specs if target in _qualified_forms(project, s)]


def _qualified_forms(project: DeclaredProject, spec: Any) -> set[str]:
    forms = {project.qualified(spec), project.file_qualified(spec)}
    if spec.declared_in and os.path.dirname(spec.declared_in) == project.root:
        forms.add(f"./{spec.name}")  # the folder of a root-level declaring file
    return forms
