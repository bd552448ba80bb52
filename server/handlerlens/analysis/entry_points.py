"""Resolve an entry point (`main.handler`) to a file and a top-level name, as the runtime would."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass

from handlerlens.analysis.sources import Sources
from handlerlens.platforms.aws import BUILTIN_MODULES
from handlerlens.platforms.rules import PlatformRules


@dataclass(frozen=True)
class EntryTarget:
    """Where an entry point points: module name as imported, function name, and the file."""

    module: str
    function: str
    path: str | None  # the module's file (`x.py` or `x/__init__.py`), None if missing
    in_subdirectory: bool


@dataclass(frozen=True)
class EntryFault:
    """Why an entry point cannot resolve: a diagnostic code, message facts and a suggestion."""

    code: str
    detail: str
    suggestion: str | None = None  # a corrected entry point, when one is clear
    module: str = ""  # the module name the runtime would try to import


def split_entry(entry: str) -> tuple[str, str] | None:
    """Split at the last `.` as awslambdaric does; `/` in the module becomes `.`."""
    module, dot, function = entry.strip().rpartition(".")
    if not dot or not module or not function:
        return None
    return module.replace("/", "."), function


def module_file(root: str, module: str, sources: Sources) -> str | None:
    """The file the runtime imports for dotted `module` under `root`, if it exists."""
    base = os.path.join(root, *module.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if sources.exists(candidate):
            return candidate
    return None


def _python_modules_in(root: str, sources: Sources) -> list[str]:
    return sorted(n[:-3] for n in sources.listdir(root) if n.endswith(".py"))


def close_match(name: str, candidates: list[str]) -> str | None:
    """The candidate closest to `name` ("did you mean"), if any is close enough."""
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def resolve_entry(
    entry: str, root: str, rules: PlatformRules, sources: Sources, where: str | None = None
) -> EntryTarget | EntryFault:
    """Resolve `entry` under `root`; a fault names the first rule the platform would trip.

    `where` names the code's container in messages (default: "the code root <root>").
    """
    parts = split_entry(entry)
    if parts is None:
        stem = entry.strip()
        suggestion = None
        if stem and module_file(root, "main", sources):
            suggestion = f"main.{stem}"
        return EntryFault(
            "entry-point-malformed",
            f"'{entry}' has no '.': an entry point is <file>.<function>, e.g. main.handler",
            suggestion,
        )
    module, function = parts
    first = module.split(".")[0]
    if rules.builtin_module_conflict and first in BUILTIN_MODULES:
        return EntryFault(
            "entry-point-builtin-module",
            f"'{first}' is a built-in module: the runtime refuses it as a handler module; "
            "rename the file",
            module=first,
        )
    segments = module.split(".")
    # `main.py.handler`: the file part includes the extension.
    if segments[-1] == "py" and len(segments) > 1:
        stem = ".".join(segments[:-1])
        fixed = f"{stem}.{function}" if module_file(root, stem, sources) else None
        return EntryFault(
            "entry-point-dotted-filename",
            f"'{module}' includes the '.py' extension: the file part of the entry point is "
            "the file name without '.py'",
            fixed,
            module=module,
        )
    path = module_file(root, module, sources)
    if path is None and len(segments) > 1 and sources.exists(os.path.join(root, module + ".py")):
        # `foo.bar.handler` with a file `foo.bar.py`: no import system can load that name.
        return EntryFault(
            "entry-point-dotted-filename",
            f"the file '{module}.py' has a '.' in its base name, so '{module}' imports as "
            f"package '{segments[0]}' instead; rename the file without dots",
            module=module,
        )
    if path is None:
        here = _python_modules_in(os.path.join(root, *segments[:-1]), sources)
        near = close_match(segments[-1], here)
        suggestion = None
        if near is not None:
            suggestion = ".".join([*segments[:-1], near, function])
        file = "/".join(segments) + ".py"
        return EntryFault(
            "entry-point-module-missing",
            f"there is no {file} (nor a package {'/'.join(segments)}/) in "
            f"{where or f'the code root {root}'}",
            suggestion,
            module=module,
        )
    return EntryTarget(module, function, path, in_subdirectory=len(segments) > 1)


# Top-level names an entry point can name: what "did you mean" picks from.
CALLABLE_KINDS = ("function", "lambda", "assigned", "imported")


def suggest_entry(entry: str, root: str, rules: PlatformRules, sources: Sources) -> str | None:
    """The entry point the user most likely meant, when `entry` does not resolve and a
    correction is clear (`main.handlr` → `main.handler`); None otherwise."""
    resolved = resolve_entry(entry, root, rules, sources)
    if isinstance(resolved, EntryFault):
        return resolved.suggestion
    info = sources.module(resolved.path) if resolved.path else None
    if info is None or resolved.function in info.bindings:
        return None
    if info.syntax_error is not None:
        # The names read past the error are a guess: whether `function` is missing is not
        # known, so no correction is (the syntax error is what the user needs to see).
        return None
    names = [n for n, b in info.bindings.items() if b.kind in CALLABLE_KINDS]
    near = close_match(resolved.function, names)
    if near is None and resolved.function == "py":
        # A file name typed where the entry point goes (`main.py`, as `python main.py`):
        # its handler, when the file has one plain candidate.
        defs = [n for n, b in info.bindings.items() if b.kind == "function"]
        near = "handler" if "handler" in defs else (defs[0] if len(defs) == 1 else None)
    return f"{entry.rpartition('.')[0]}.{near}" if near else None
