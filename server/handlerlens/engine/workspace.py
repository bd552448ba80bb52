"""A workspace's functions and their problems, kept current as files change.

Shared by the language server (incrementally, per edit) and `handlerlens check` (once).
Knows nothing of LSP.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from handlerlens import project
from handlerlens.analysis.events.checks import check_events
from handlerlens.analysis.events.flow import HandlerContext
from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem, Span
from handlerlens.core.python_module import Binding
from handlerlens.deploy.checks import DeployState
from handlerlens.engine.validate import FunctionReport, validate_function
from handlerlens.platforms import DEFAULT_PLATFORM
from handlerlens.project.discovery import ProjectModel

if TYPE_CHECKING:
    from handlerlens.project.routes import Route


@dataclass(frozen=True)
class HandlerSite:
    """A function whose handler is defined in a given file, and where."""

    spec: FunctionSpec
    binding: Binding


def _inside(path: str, root: str) -> bool:
    try:
        return os.path.commonpath(
            [os.path.abspath(path), os.path.abspath(root)]
        ) == os.path.abspath(root)
    except ValueError:
        return False


class WorkspaceState:
    """Functions declared under one root, validated; updated per changed file."""

    def __init__(
        self, root: str, *, platform_setting: str | None = None, sources: Sources | None = None
    ) -> None:
        self.root = os.path.abspath(root)
        self.platform_setting = platform_setting
        self.sources = sources or Sources()
        self.model = ProjectModel(self.root)
        self.declared: list[FunctionSpec] = []
        self.heuristic: dict[str, list[FunctionSpec]] = {}
        self.reports: list[FunctionReport] = []
        # Event/context checks per handler module, from the last validation of that module.
        self.event_problems: dict[str, list[Problem]] = {}
        # What deploy would reject (imports, runtime, environment), per function.
        self.deploy = DeployState(self.sources)
        self.deploy.project_root = self.root  # the runner looks for a venv up to it, too
        self.discovered = False
        # HTTP routes of the declaring files (SAM, serverless.yml, API Gateway specs,
        # Terraform gateways) and the problems in them, read at each discovery.
        self.routes: list[Route] = []
        self.route_problems: list[Problem] = []

    @property
    def platform(self) -> str:
        """The platform for functions whose declaration does not say."""
        if self.platform_setting in ("yandex", "aws"):
            return self.platform_setting
        return DEFAULT_PLATFORM

    @property
    def functions(self) -> list[FunctionSpec]:
        """Declared functions, then heuristic ones from files no declaration covers."""
        out = list(self.declared)
        for specs in self.heuristic.values():
            out.extend(specs)
        return out

    def discover(self) -> None:
        """Re-read every declaring file (and the heuristic) from scratch, then validate."""
        self._take(self._discover())
        self.discovered = True
        self.read_routes()
        self.validate_all()

    def discover_near(self, paths: list[str]) -> None:
        """A first look for the files an editor has open, while `discover` is still to come:
        the declaring files in their folders and above (`project.discover(near=…)`), and only
        the functions whose handler module is one of `paths` validated. Leaves `discovered`
        False; its problems are right for `paths` as far as those declaring files tell."""
        self._take(self._discover(paths))
        wanted = set(paths)
        self.reports = [
            validate_function(spec, self.sources)
            for spec in self.functions
            if not wanted.isdisjoint(_module_files(spec))
        ]
        self.event_problems = {}
        self._check_events({r.target.path for r in self.reports if r.target and r.target.path})
        self.deploy.update(self.reports)

    def _discover(self, near: list[str] | None = None) -> ProjectModel:
        setting = self.platform_setting if self.platform_setting in ("yandex", "aws") else None
        return project.discover(
            self.root, platform_setting=setting, overlays=self.sources.overlays, near=near
        )

    def _take(self, model: ProjectModel) -> None:
        self.model = model
        self.declared = [f for f in self.model.functions if f.declared_by != "heuristic"]
        self.heuristic = defaultdict(list)
        for spec in self.model.functions:
            if spec.declared_by == "heuristic":
                self.heuristic[_heuristic_file(spec)].append(spec)
        self.heuristic = dict(self.heuristic)

    def read_routes(self) -> None:
        """The routes of every declaring file and gateway spec, with their problems
        (project/routes_reading.py: the reading `serve` uses too)."""
        from handlerlens.project.routes_reading import declared_routes

        # A mapping may name a guessed function too (a spec beside a lone handler.py).
        found = declared_routes(self.model, self.sources.text, {s.name for s in self.functions})
        self.routes = found.routes
        self.route_problems = found.problems

    def heuristic_applies(self, path: str) -> bool:
        """Whether the quiet heuristic may look at `path`: no declaration covers it (the
        same rule as `project.discover`, so the editor and `check` find the same functions)."""
        if not path.endswith(".py") or not _inside(path, self.root):
            return False
        covered = self.model.covered
        return not any(_inside(path, spec.root) for spec in self.declared) and not any(
            _inside(path, folder) for folder in covered
        )

    def python_changed(self, path: str) -> set[str]:
        """Re-validate after `path` changed; returns the paths whose problems may differ."""
        touched: set[str] = {path}
        if self.heuristic_applies(path):
            text = self.sources.text(path)
            setting = self.platform_setting if self.platform_setting in ("yandex", "aws") else None
            found = (
                project.heuristic_functions(
                    path, text, self.root, setting, self.model.folder_evidence
                )
                if text is not None
                else []
            )
            if found or path in self.heuristic:
                self.heuristic[path] = found
        new_reports: list[FunctionReport] = []
        for report in self.reports:
            if report.target is not None and report.target.path != path:
                new_reports.append(report)
        kept = {id(r.spec) for r in new_reports}
        for spec in self.functions:
            if id(spec) in kept:
                continue
            report = validate_function(spec, self.sources)
            new_reports.append(report)
            if spec.declared_in:
                touched.add(spec.declared_in)
            if report.target is not None and report.target.path:
                touched.add(report.target.path)
        self.reports = new_reports
        self._check_events({path})
        touched |= self.deploy.update(self.reports, path)
        return touched

    def validate_all(self) -> None:
        """Validate every function (parses are cached, so unchanged files cost little)."""
        self.reports = [validate_function(spec, self.sources) for spec in self.functions]
        self.event_problems = {}
        self._check_events({r.target.path for r in self.reports if r.target and r.target.path})
        self.deploy.update(self.reports)

    def _check_events(self, paths: set[str]) -> None:
        """Event-key and context-attribute checks for the handler modules in `paths`."""
        contexts: dict[str, dict[str, HandlerContext]] = defaultdict(dict)
        for report in self.reports:
            target = report.target
            if target is None or target.path not in paths or report.binding is None:
                continue
            spec = report.spec
            context = HandlerContext(
                target.function, spec.platform, spec.event_trigger, spec.platform_known
            )
            known = contexts[target.path].setdefault(target.function, context)
            if known != context:
                # One handler behind functions with different triggers (an API and a queue on
                # `app.handler`) receives either event: no one shape to check against.
                contexts[target.path][target.function] = replace(known, trigger=None)
        for path in paths:
            text = self.sources.text(path) if path in contexts else None
            if text is None:
                self.event_problems.pop(path, None)
                continue
            self.event_problems[path] = check_events(path, text, list(contexts[path].values()))

    def problems_by_path(self) -> dict[str, list[Problem]]:
        """Every problem, grouped by file, including problems in declaring files."""
        out: dict[str, list[Problem]] = defaultdict(list)
        for problem in self.model.problems:
            out[problem.path].append(problem)
        for path, problems in self.event_problems.items():
            out[path].extend(problems)
        for problem in self.route_problems:
            out[problem.path].append(problem)
        # Functions sharing a handler module share its problems (a syntax error): once each.
        seen: set[tuple[str, Span, str, str]] = set()
        for report_problems in [*(r.problems for r in self.reports), self.deploy.problems()]:
            for problem in report_problems:
                key = (problem.path, problem.span, problem.code, problem.message)
                if key in seen:
                    continue
                seen.add(key)
                out[problem.path].append(problem)
        for problems in out.values():
            problems.sort(key=lambda p: (p.span.start, p.code))
        return dict(out)

    def handlers_in(self, path: str) -> list[HandlerSite]:
        """Functions whose handler binding is in `path` (from the last good parse)."""
        sites: list[HandlerSite] = []
        for report in self.reports:
            if report.target is None or report.target.path != path:
                continue
            binding = report.binding
            if binding is None:
                info = self.sources.last_good_module(path)
                binding = info.bindings.get(report.target.function) if info else None
            if binding is not None:
                sites.append(HandlerSite(report.spec, binding))
        return sites

    def config_files(self) -> list[str]:
        """Declaring files read by the last discovery, API Gateway specs included."""
        return [*self.model.config_files, *self.model.gateway_specs]

    def with_platform(self, platform_setting: str | None) -> None:
        """Change the platform setting; functions whose file does not say follow it."""
        self.platform_setting = platform_setting
        self.discover()


def _module_files(spec: FunctionSpec) -> tuple[str, str]:
    """Where the handler module of `spec` is, before resolving it: `a/b.py` or
    `a/b/__init__.py` under the code root."""
    module = os.path.join(spec.root, spec.entry.rpartition(".")[0].replace(".", os.sep))
    return os.path.normpath(module + ".py"), os.path.join(os.path.normpath(module), "__init__.py")


def _heuristic_file(spec: FunctionSpec) -> str:
    module = spec.entry.rpartition(".")[0].replace(".", os.sep)
    return os.path.join(spec.root, module + ".py")
