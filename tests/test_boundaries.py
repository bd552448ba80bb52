"""The server's floors and promises, read from the imports of every module (an AST walk).

No import is executed: every `import` and `from … import` in a module counts, wherever it
stands (inside a function, under `if TYPE_CHECKING:`, in a `try:`), relative ones resolved;
so do `importlib.import_module("name")` calls with a literal name. The worker loads its own
package and the platform modules it uses by path, under private names (`worker/__main__.py`,
`worker/direct.py`), where no import reader follows: the modules it loads that way are found
here from the worker's own code, and held to the worker's rule.

The promises (DESIGN.md's boundaries, issue #16):
- analysis, project, platforms, core and the engine never import the LSP library (pygls,
  lsprotocol) nor the runner or the language server;
- the worker, and the platform modules it loads, import only the standard library
  (`sys.stdlib_module_names`) and, relatively, their own package: they run in the user's
  interpreter, whatever it has installed;
- no module imports from a floor above its own, and the packages that share a floor do not
  import each other (FLOORS below);
- import cycles are only the deliberate ones (ALLOWED_CYCLES below), each with its reason.

The checker itself is tested on small synthetic trees at the end: a broken rule must fail.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parent.parent / "server"
PACKAGE = "handlerlens"

# The floors, lowest first. A module's part is its package under handlerlens/ (`runner` for
# handlerlens/runner/…), or its own name for a top-level module (`cli` for cli.py); "" is
# handlerlens/__init__.py. A part may import its own modules and any part on a LOWER floor;
# parts on one floor stand side by side and do not import each other (analysis and project).
FLOORS: dict[str, int] = {
    # Ground: the shared vocabulary (problems, spans, text positions, the function model);
    # the worker (standard library only, run in the user's interpreter); what every command
    # shares on the terminal; the package's version.
    "": 0,
    "core": 0,
    "worker": 0,
    "console": 0,
    # Every platform fact: rules, event shapes, response mapping (stdlib + core).
    "platforms": 1,
    # Reading Python code (analysis) and reading declaring files (project): side by side.
    "analysis": 2,
    "project": 2,
    # What deploy would reject (packages, runtime, environment): reads code and declarations.
    "deploy": 3,
    # What the language server and `check` share: validation of a workspace's functions.
    "engine": 4,
    # `handlerlens check` (its text lines are also the runner's).
    "check": 5,
    # The local runner: supervisor, hosts, `invoke`; it starts workers and imports them.
    "runner": 6,
    # Saved events as regression tests: runs functions through the runner.
    "replay": 7,
    # The language server: drives the engine, the runner and replay.
    "lsp": 8,
    # The `handlerlens` command line, then the entry points that only call it.
    "cli": 9,
    "__main__": 10,
}
# Modules placed apart from their package: `python -m handlerlens.runner` is an entry point
# like handlerlens/__main__.py (it calls the command line, which the runner never imports).
PLACED: dict[str, str] = {"runner.__main__": "__main__"}

# Parts that must never import the language server's library, the runner or the server.
PURE = ("core", "platforms", "analysis", "project", "deploy", "engine")
NOT_FOR_PURE = ("pygls", "lsprotocol", f"{PACKAGE}.runner", f"{PACKAGE}.lsp")

# What a worker module may import beside the standard library: the debugger that runs it
# (DESIGN.md: "stdlib-only (+ debugpy)"), imported only when it is there, under `--debug`.
WORKER_EXTRAS: dict[str, tuple[str, ...]] = {
    f"{PACKAGE}.worker.debugging": ("debugpy", "pydevd", "_pydevd_bundle"),
}

# Import cycles that are kept on purpose, each with why. A cycle not listed fails; so does a
# listed one that is gone (delete its line then).
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


@dataclass(frozen=True)
class Import:
    """One import: the absolute dotted name it reaches, where, and whether it was relative."""

    target: str
    line: int
    relative: bool


@dataclass
class Module:
    name: str
    path: Path
    is_package: bool
    imports: list[Import] = field(default_factory=list)


def _module_name(src: Path, path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _imports_of(module: Module, known: set[str]) -> list[Import]:
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    here = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno, False) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                if node.level - 1 > len(here):
                    base = []  # above the top: reported as leaving the package
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                # `from pkg import mod` reaches the module; `from mod import name`, the module.
                whole = f"{source}.{alias.name}"
                target = whole if whole in known else source
                found.append(Import(target, node.lineno, bool(node.level)))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            )
            and not node.args[0].value.startswith(".")
        ):
            found.append(Import(node.args[0].value, node.lineno, False))
    return found


def read_tree(src: Path, package: str) -> dict[str, Module]:
    """Every module of `package` under `src` (the folder that holds the package), by name."""
    modules: dict[str, Module] = {}
    for path in sorted((src / package).rglob("*.py")):
        name, is_package = _module_name(src, path)
        modules[name] = Module(name, path, is_package)
    known = set(modules)
    for module in modules.values():
        module.imports = _imports_of(module, known)
    return modules


def owner(name: str, modules: Iterable[str]) -> str | None:
    """The module of the tree that `name` (a module or something in one) belongs to."""
    known = set(modules)
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def part_of(name: str, package: str, placed: Mapping[str, str]) -> str:
    """The part (FLOORS' key) of module `name`."""
    inner = name[len(package) + 1 :] if name.startswith(package + ".") else ""
    for module, part in placed.items():
        if inner == module or inner.startswith(module + "."):
            return part
    return inner.split(".")[0]


def floor_breaks(
    modules: Mapping[str, Module],
    package: str,
    floors: Mapping[str, int],
    placed: Mapping[str, str],
) -> list[str]:
    """Imports that reach a higher floor or a sibling part on the same floor; unplaced parts."""
    breaks: list[str] = []
    for module in modules.values():
        part = part_of(module.name, package, placed)
        if part not in floors:
            breaks.append(f"{module.path}: part {part!r} stands on no floor (add it to FLOORS)")
            continue
        for imp in module.imports:
            target = owner(imp.target, modules)
            if target is None:
                continue
            other = part_of(target, package, placed)
            if other == part or other not in floors:
                continue
            if floors[other] >= floors[part]:
                how = "a higher floor" if floors[other] > floors[part] else "a sibling on its floor"
                breaks.append(
                    f"{module.path}:{imp.line}: {module.name} ({part}, floor {floors[part]}) "
                    f"imports {target} ({other}, {how}: floor {floors[other]})"
                )
    return breaks


def library_breaks(
    modules: Mapping[str, Module],
    package: str,
    parts: Iterable[str],
    forbidden: Iterable[str],
    placed: Mapping[str, str],
) -> list[str]:
    """Imports of a `forbidden` package (or one inside it) from a module of `parts`."""
    wanted, banned = set(parts), tuple(forbidden)
    breaks: list[str] = []
    for module in modules.values():
        if part_of(module.name, package, placed) not in wanted:
            continue
        for imp in module.imports:
            for name in banned:
                if imp.target == name or imp.target.startswith(name + "."):
                    breaks.append(f"{module.path}:{imp.line}: {module.name} imports {imp.target}")
    return breaks


def worker_loaded(modules: Mapping[str, Module], package: str) -> set[str]:
    """The modules the worker runs: its own package, and the platform modules it loads by
    path, found from its code (the string names of `platforms/` files in any worker function
    that also names the `platforms` folder), with their relative imports, transitively."""
    worker, platforms = f"{package}.worker", f"{package}.platforms"
    loaded = {name for name in modules if name == worker or name.startswith(worker + ".")}
    files = {name.rpartition(".")[2]: name for name in modules if name.startswith(platforms + ".")}
    for name in sorted(loaded):
        tree = ast.parse(modules[name].path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            strings = {
                node.value
                for node in ast.walk(fn)
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            }
            if "platforms" in strings:
                # (Its __init__.py is not run: the worker makes the package object itself.)
                loaded |= {files[s] for s in strings if s in files}
    todo = [name for name in loaded if name.startswith(platforms)]
    while todo:
        for imp in modules[todo.pop()].imports:
            target = owner(imp.target, modules)
            if imp.relative and target is not None and target not in loaded:
                loaded.add(target)
                todo.append(target)
    return loaded


def stdlib_breaks(
    modules: Mapping[str, Module],
    names: Iterable[str],
    extras: Mapping[str, Iterable[str]] | None = None,
) -> list[str]:
    """Imports, from the modules `names`, of anything but the standard library and their own
    package (relatively: they are loaded under private names, so an absolute import of
    `handlerlens…` would load a second copy, or fail in the user's interpreter)."""
    breaks: list[str] = []
    for name in sorted(names):
        module = modules[name]
        home = module.name if module.is_package else module.name.rpartition(".")[0]
        also = set((extras or {}).get(name, ()))
        for imp in module.imports:
            if imp.relative:
                if not (imp.target == home or imp.target.startswith(home + ".")):
                    breaks.append(
                        f"{module.path}:{imp.line}: {name} reaches {imp.target} outside {home}"
                    )
            elif imp.target.split(".")[0] not in sys.stdlib_module_names | also:
                breaks.append(
                    f"{module.path}:{imp.line}: {name} imports {imp.target} (not the standard "
                    "library: the worker runs in the user's interpreter)"
                )
    return breaks


def cycles(modules: Mapping[str, Module]) -> list[frozenset[str]]:
    """The import cycles between modules of the tree (strongly connected sets, size > 1)."""
    graph = {
        name: {t for imp in m.imports if (t := owner(imp.target, modules)) not in (None, name)}
        for name, m in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, without recursion
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group: set[str] = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(frozenset(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def cycle_breaks(modules: Mapping[str, Module], allowed: Mapping[frozenset[str], str]) -> list[str]:
    found = set(cycles(modules))
    breaks = [
        f"import cycle {' <-> '.join(sorted(c))}: untie it, or list it in ALLOWED_CYCLES with why"
        for c in found - set(allowed)
    ]
    breaks += [
        f"the allowed cycle {' <-> '.join(sorted(c))} is gone: delete it from ALLOWED_CYCLES"
        for c in set(allowed) - found
    ]
    return sorted(breaks)


# -- the promises, on the real tree ------------------------------------------------------------


@pytest.fixture(scope="module")
def tree() -> dict[str, Module]:
    modules = read_tree(SERVER, PACKAGE)
    assert len(modules) > 50, f"too few modules read under {SERVER}"
    return modules


def test_no_floor_leans_on_a_higher_one_or_on_a_sibling(tree: dict[str, Module]) -> None:
    assert floor_breaks(tree, PACKAGE, FLOORS, PLACED) == []


def test_the_pure_floors_never_import_the_lsp_library_the_runner_or_the_server(
    tree: dict[str, Module],
) -> None:
    assert library_breaks(tree, PACKAGE, PURE, NOT_FOR_PURE, PLACED) == []


def test_the_worker_and_what_it_loads_use_only_the_standard_library(
    tree: dict[str, Module],
) -> None:
    loaded = worker_loaded(tree, PACKAGE)
    platforms = {name for name in loaded if name.startswith(f"{PACKAGE}.platforms.")}
    # The worker loads platform modules by path today (worker/direct.py): if none is found,
    # the way it loads them changed and worker_loaded() must learn it.
    assert platforms, "no platform module found among the worker's by-path loads"
    assert stdlib_breaks(tree, loaded, WORKER_EXTRAS) == []


def test_only_the_deliberate_import_cycles_remain(tree: dict[str, Module]) -> None:
    assert cycle_breaks(tree, ALLOWED_CYCLES) == []


# -- the checker, on synthetic trees: a broken rule fails -------------------------------------

SYNTHETIC_FLOORS = {"": 0, "core": 0, "worker": 0, "platforms": 1, "analysis": 2, "project": 2}


def _write(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


_CLEAN = {
    "__init__.py": "",
    "core/__init__.py": "",
    "core/problems.py": "import dataclasses\n",
    "platforms/__init__.py": "",
    "platforms/reply.py": "from .shapes import SHAPE\nimport json\n",
    "platforms/shapes.py": "SHAPE = {}\n",
    "platforms/rules.py": "from pkg.core.problems import dataclasses\n",
    "analysis/__init__.py": "",
    "analysis/check.py": "from ..core import problems\nfrom pkg.platforms import rules\n",
    "project/__init__.py": "",
    "project/read.py": "from pkg.core.problems import dataclasses\n",
    "worker/__init__.py": "",
    "worker/serve.py": "import os\nfrom . import channel\n",
    "worker/channel.py": "import json\n",
    "worker/direct.py": (
        "import importlib, os\n"
        "def load_platforms():\n"
        "    here = os.path.join(os.path.dirname(__file__), '..', 'platforms')\n"
        "    for name in ('reply',):\n"
        "        importlib.import_module(f'_private.{name}')\n"
    ),
}


def _breaks(src: Path) -> list[str]:
    modules = read_tree(src, "pkg")
    return (
        floor_breaks(modules, "pkg", SYNTHETIC_FLOORS, {})
        + library_breaks(
            modules, "pkg", ("core", "platforms", "analysis", "project"), ("yaml",), {}
        )
        + stdlib_breaks(modules, worker_loaded(modules, "pkg"))
        + cycle_breaks(modules, {})
    )


def test_a_clean_synthetic_tree_passes(tmp_path: Path) -> None:
    src = _write(tmp_path, _CLEAN)
    assert _breaks(src) == []
    loaded = worker_loaded(read_tree(src, "pkg"), "pkg")
    # reply.py is named in load_platforms and imports shapes.py relatively; rules.py is not
    # loaded by the worker, so its absolute import of pkg.core is allowed.
    assert {"pkg.platforms.reply", "pkg.platforms.shapes"} <= loaded
    assert "pkg.platforms.rules" not in loaded


@pytest.mark.parametrize(
    ("rel", "text", "expected"),
    [
        # an upward import inside a function
        ("core/problems.py", "def f():\n    from pkg.analysis import check\n", "a higher floor"),
        # siblings on one floor, under TYPE_CHECKING
        (
            "analysis/check.py",
            "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from pkg.project.read import x\n",
            "a sibling on its floor",
        ),
        # a relative import that climbs to a higher floor
        ("platforms/shapes.py", "from ..analysis import check\n", "a higher floor"),
        # a forbidden library from a pure floor
        ("project/read.py", "import yaml.nodes\n", "imports yaml.nodes"),
        ("analysis/check.py", "from yaml import safe_load\n", "imports yaml"),
        # the worker: a third-party import, and an absolute import of its own package
        ("worker/channel.py", "import requests\n", "not the standard library"),
        ("worker/serve.py", "from pkg.worker import channel\n", "not the standard library"),
        # a platform module the worker loads by path, and one it reaches relatively
        ("platforms/reply.py", "from pkg.core import problems\n", "not the standard library"),
        ("platforms/shapes.py", "import yaml\n", "not the standard library"),
        ("worker/channel.py", "from ..core import problems\n", "outside pkg.worker"),
        # a dynamic import by a literal name
        ("worker/channel.py", "import importlib\nimportlib.import_module('yaml')\n", "yaml"),
        # a cycle, through a function-level import (reply.py imports shapes.py)
        ("platforms/shapes.py", "def f():\n    from . import reply\n", "import cycle"),
        # a part that stands on no floor
        ("runner/app.py", "import os\n", "stands on no floor"),
    ],
)
def test_a_broken_rule_fails(tmp_path: Path, rel: str, text: str, expected: str) -> None:
    files = dict(_CLEAN)
    files[rel] = files.get(rel, "") + text
    breaks = _breaks(_write(tmp_path, files))
    assert any(expected in line for line in breaks), breaks


def test_a_listed_cycle_that_is_gone_fails(tmp_path: Path) -> None:
    modules = read_tree(_write(tmp_path, _CLEAN), "pkg")
    gone = frozenset({"pkg.core.problems", "pkg.core"})
    assert cycle_breaks(modules, {gone: "kept for a reason"}) == [
        "the allowed cycle pkg.core <-> pkg.core.problems is gone: delete it from ALLOWED_CYCLES"
    ]


def test_the_debugger_is_allowed_only_where_listed(tmp_path: Path) -> None:
    files = dict(_CLEAN)
    files["worker/channel.py"] += "def attach():\n    import pydevd\n"
    modules = read_tree(_write(tmp_path, files), "pkg")
    loaded = worker_loaded(modules, "pkg")
    assert any("imports pydevd" in line for line in stdlib_breaks(modules, loaded))
    assert stdlib_breaks(modules, loaded, {"pkg.worker.channel": ("pydevd",)}) == []
    assert stdlib_breaks(modules, loaded, {"pkg.worker.serve": ("pydevd",)}) != []
