"""Validate one declared function: its runtime, its entry point (on disk, or packed in a zip
or inline), its module's syntax, then its handler (engine/handler_checks.py); the problems
built by engine/reporter.py and each mistake said once (engine/linked_problems.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from handlerlens.analysis.entry_points import EntryFault, EntryTarget, resolve_entry
from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.core.python_module import Binding
from handlerlens.engine.grammar import SYNTAX_UNCHECKED, newer_grammar, unchecked_text
from handlerlens.engine.handler_checks import check_binding
from handlerlens.engine.linked_problems import linked
from handlerlens.engine.packed_code import check_packed
from handlerlens.engine.reporter import Reporter, platform_says
from handlerlens.platforms import rules_for
from handlerlens.platforms.rules import PlatformRules, is_placeholder


@dataclass
class FunctionReport:
    """What validation learnt about one function: where its handler is, and what is wrong."""

    spec: FunctionSpec
    target: EntryTarget | None = None
    binding: Binding | None = None
    problems: list[Problem] = field(default_factory=list)


def validate_function(spec: FunctionSpec, sources: Sources) -> FunctionReport:
    """Every problem with `spec`, on its declaring file and on its handler's module."""
    report = _validate(spec, sources)
    report.problems = linked(report.problems, spec.declared_in)
    return report


def _validate(spec: FunctionSpec, sources: Sources) -> FunctionReport:
    rules = rules_for(spec.platform)
    # A guessed function of unknown platform gets only the checks that hold on both.
    quoted = rules if spec.platform_known else None
    report = FunctionReport(spec)
    out = Reporter(spec, rules)
    _check_runtime(spec, rules, out)
    if not spec.code_on_disk:
        _report_packed(spec, rules, out)
        report.problems = out.problems
        return report
    resolved = resolve_entry(spec.entry, spec.root, rules, sources)
    if isinstance(resolved, EntryFault):
        module = resolved.module or spec.entry
        out.entry_fault(
            quoted,
            Severity.ERROR,
            resolved.code,
            resolved.detail,
            resolved.suggestion,
            module=module,
            package=module.split(".")[0],
        )
        report.problems = out.problems
        return report
    report.target = resolved
    assert resolved.path is not None
    if (
        resolved.in_subdirectory
        and rules.subdirectory_entry_severity is not None
        and spec.platform_known
    ):
        out.on_config(
            rules.subdirectory_entry_severity,
            "entry-point-outside-root",
            f"Entry point '{spec.entry}' names a file in a subdirectory of the code root; "
            f"{rules.title} documents that the handler file must be in the root directory. "
            "Move the file to the code root or make its directory the code root.",
        )
    info = sources.module(resolved.path)
    if info is None:
        out.on_config(
            Severity.ERROR,
            "entry-point-module-unreadable",
            f"Entry point '{spec.entry}': {resolved.path} is not a readable UTF-8 Python file.",
        )
        report.problems = out.problems
        return report
    if info.syntax_error is not None:
        err = info.syntax_error
        if newer_grammar(spec, info, sources, resolved.path):
            _syntax_unchecked(spec, out, resolved.path, err.message)
            report.problems = out.problems
            return report
        said = platform_says(
            quoted, "entry-point-syntax-error", module=resolved.module, error=err.message
        )
        out.on_config(
            Severity.ERROR,
            "entry-point-syntax-error",
            f"Entry point '{spec.entry}': {os.path.basename(resolved.path)} has a syntax error "
            f"({err.message}), so the module cannot be imported.{said}",
        )
        # Worded for the module, not this function: every function whose handler is in it
        # reports the same problem, and the workspace publishes it once.
        out.problems.append(
            Problem(
                resolved.path,
                err.span,
                Severity.ERROR,
                "entry-point-syntax-error",
                f"Syntax error: {err.message}. The handler module cannot be imported: every "
                f"invocation of a handler in it fails.{said}",
            )
        )
        report.problems = out.problems
        return report
    report.binding = check_binding(spec, rules, resolved, info, out)
    report.problems = out.problems
    return report


def _syntax_unchecked(spec: FunctionSpec, out: Reporter, path: str, message: str) -> None:
    text = unchecked_text(spec, path, message)
    out.on_config(Severity.INFO, SYNTAX_UNCHECKED, f"Entry point '{spec.entry}': {text}")
    out.on_python(path, Span.of(0, 0), Severity.INFO, SYNTAX_UNCHECKED, text)


def _report_packed(spec: FunctionSpec, rules: PlatformRules, out: Reporter) -> None:
    """A zip-deployed or inline function: only the entry point can be checked, on the
    declaration (there is no Python file in the workspace to put problems on)."""
    finding = check_packed(spec, rules)
    if finding is None:
        return
    if finding.whole:
        out.on_config(
            finding.severity, finding.code, finding.detail, out.entry_fix(finding.suggestion)
        )
        return
    module, _, function = spec.entry.strip().rpartition(".")
    module = module.replace("/", ".")
    out.entry_fault(
        rules,
        finding.severity,
        finding.code,
        finding.detail,
        finding.suggestion,
        module=module,
        function=function,
        package=module.split(".")[0],
    )


def _check_runtime(spec: FunctionSpec, rules: PlatformRules, out: Reporter) -> None:
    if spec.runtime is None or spec.declared_in is None or spec.runtime_span is None:
        return
    if is_placeholder(spec.runtime):
        return  # filled in by a template or a build: nothing to judge yet
    verdict = rules.runtime_verdict(spec.runtime)
    if verdict.severity is not None:
        out.problems.append(
            Problem(
                spec.runtime_declared_in or spec.declared_in,
                spec.runtime_span,
                verdict.severity,
                "runtime-unsupported",
                verdict.message,
            )
        )
