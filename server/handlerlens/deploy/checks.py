"""What deploy would reject, for a workspace's functions: each function's deploy checks
(checker.py) re-run only where a change can matter, the runtime-interpreter-mismatch of the
language server, and one problem said once for the functions that share it.

Codes: `import-not-packaged`, `import-removed-in-runtime`, `syntax-newer-than-runtime`,
`env-var-undeclared`, `imports-unchecked` (info: a module on the way does not parse, or the
walk stopped), `requirements-invalid` (req_lines.py: a requirements.txt line pip rejects),
`runtime-interpreter-mismatch`.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import Any

from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.deploy.checker import DeployChecker
from handlerlens.deploy.environment import Environments
from handlerlens.deploy.manifest import MANIFEST_NAMES
from handlerlens.deploy.reading import DeployResult
from handlerlens.platforms.rules import is_placeholder, runtime_python

# The end of a message that names its function: " [function 'Orders' in template.yaml]".
_FOR_FUNCTION = re.compile(r" \[function '(.*)' in ([^\]]+)\]$")
_IMPORTING_MODULE = re.compile(r"Unable to import module '([^']*)'")


class DeployState:
    """The deploy problems of a workspace's functions, re-checked only where a change can
    matter: a function whose handler was re-validated, or one that read the changed file
    (a module of its import closure, or its manifest)."""

    def __init__(self, sources: Sources) -> None:
        self.environments = Environments()
        self.checker = DeployChecker(sources, self.environments)
        self.results: dict[int, DeployResult] = {}
        # Set by the language server when runtime-interpreter-mismatch is asked for: its own
        # Python, the runner's last resort. Each declared runtime is compared with the
        # interpreter the runner will use for that function (deploy/interpreter.py: the
        # project's venv, a python3.X matching the runtime, else this one), foreseen from files
        # only and kept per code root until the next full check. `check` leaves it None: its
        # output must not depend on the machine it runs on.
        self.local_python: tuple[int, int] | None = None

    @property
    def project_root(self) -> str | None:
        """Where the runner looks for a venv up to (the workspace folder)."""
        return self.environments.project_root

    @project_root.setter
    def project_root(self, root: str | None) -> None:
        self.environments.project_root = root
        self.environments.clear()

    def update(self, reports: list[Any], changed: str | None = None) -> set[str]:
        """Check the functions of `reports` (FunctionReport) that need it; returns the paths
        whose deploy problems may differ. `changed` None: check all."""
        touched: set[str] = set()
        alive: dict[int, DeployResult] = {}
        if changed is None:
            self.environments.clear()  # a venv may have come or gone
        for report in reports:
            key = id(report.spec)
            old = self.results.get(key)
            if (
                old is not None
                and changed is not None
                and changed not in old.files
                and not _is_manifest_of(changed, report.spec.root)
                and not (_module_names(changed, report.spec.root) & old.unresolved)
            ):
                alive[key] = old
                continue
            new = self._check(report)
            if len(self.checker.memo) > 50_000:
                self.checker.memo.clear()
            for result in (old, new):
                if result is not None:
                    touched |= {p.path for p in result.problems}
            alive[key] = new
        for key, gone in self.results.items():
            if key not in alive:
                touched |= {p.path for p in gone.problems}
        self.results = alive
        self.checker.memo.clear()
        self.checker.memo_folders.clear()
        return touched

    def _check(self, report: Any) -> DeployResult:
        target = report.target
        spec: FunctionSpec = report.spec
        if target is None or not target.path or not spec.code_on_disk:
            return DeployResult()
        try:
            result = self.checker.check(spec, target.path, target.module)
        except RecursionError:
            return DeployResult()
        mismatch = self._interpreter_mismatch(report)
        if mismatch is not None:
            result.problems.append(mismatch)
        return result

    def _interpreter_mismatch(self, report: Any) -> Problem | None:
        spec: FunctionSpec = report.spec
        binding = report.binding
        local = self.local_python
        if local is None or binding is None or not spec.runtime or is_placeholder(spec.runtime):
            return None
        version = runtime_python(spec.runtime)
        if version is None:
            return None
        python, source, here = self.environments.interpreter(spec.root, spec.runtime)
        if here is None or here == version:
            return None  # the runner's interpreter matches, or its version cannot be told
        where = (
            f" [function '{spec.name}' in {os.path.basename(spec.declared_in)}]"
            if spec.declared_in
            else ""
        )
        which = {
            "venv": "the project's virtual environment",
            "pyproject.toml": "python in [tool.handlerlens] of pyproject.toml",
        }.get(
            source,
            f"no virtual environment in the project and no python{version[0]}.{version[1]} on PATH",
        )
        return Problem(
            report.target.path,
            binding.span,
            Severity.INFO,
            "runtime-interpreter-mismatch",
            f"Runs here on Python {here[0]}.{here[1]} ({python}: {which}), deployed on "
            f"{spec.runtime} (Python {version[0]}.{version[1]}): what works here may not "
            f"there (syntax, standard library, compiled packages). Run it locally with a "
            f"Python {version[0]}.{version[1]} (a .venv made with it, or handlerlens serve "
            f"--python PATH).{where}",
        )

    def problems(self) -> list[Problem]:
        """Every deploy problem, in function order; one problem said for several functions
        (a helper module they share) once, naming them all."""
        groups: dict[tuple[str, Span, str, Severity, str], list[Problem]] = {}
        for result in self.results.values():
            for problem in result.problems:
                match = _FOR_FUNCTION.search(problem.message)
                body = problem.message[: match.start()] if match else problem.message
                # Functions with different handler modules fail on the same import.
                body = _IMPORTING_MODULE.sub("Unable to import module '{module}'", body)
                key = (problem.path, problem.span, problem.code, problem.severity, body)
                groups.setdefault(key, []).append(problem)
        out: list[Problem] = []
        for (_, _, _, _, body), same in groups.items():
            names = [m.groups() for p in same if (m := _FOR_FUNCTION.search(p.message))]
            unique = list(dict.fromkeys(names))
            if len(unique) < 2:
                out.append(same[0])
                continue
            modules = {m.group(1) for p in same if (m := _IMPORTING_MODULE.search(p.message))}
            body = body.replace(
                "{module}", modules.pop() if len(modules) == 1 else "<the handler module>"
            )
            files = {file for _, file in unique}
            if len(files) == 1:
                listed = ", ".join(f"'{name}'" for name, _ in unique)
                suffix = f" [functions {listed} in {unique[0][1]}]"
            else:
                listed = ", ".join(f"'{name}' in {file}" for name, file in unique)
                suffix = f" [functions {listed}]"
            out.append(replace(same[0], message=body + suffix))
        return out


def _module_names(path: str, root: str) -> set[str]:
    """Top-level module names a new file at `path` could provide: its first folder under
    `root` (or its own name), and its own name (for an import beside its importer)."""
    own = os.path.basename(path).split(".")[0]
    rel = os.path.relpath(path, root)
    if rel.startswith(".."):
        return {own}
    return {rel.split(os.sep)[0].split(".")[0], own}


def _is_manifest_of(path: str, root: str) -> bool:
    return os.path.dirname(path) == root and os.path.basename(path) in MANIFEST_NAMES
