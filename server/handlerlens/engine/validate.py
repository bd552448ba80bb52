"""Validate one declared function: entry point, handler binding, signature, literal responses."""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field, replace

from handlerlens.analysis.entry_points import (
    CALLABLE_KINDS,
    EntryFault,
    EntryTarget,
    close_match,
    resolve_entry,
)
from handlerlens.analysis.responses import check_returns
from handlerlens.analysis.signature import check_signature, is_generator
from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Fix, Problem, Severity, Span
from handlerlens.core.python_module import Binding, ModuleInfo
from handlerlens.engine.grammar import SYNTAX_UNCHECKED, newer_grammar, unchecked_text
from handlerlens.engine.packed_code import check_packed
from handlerlens.platforms import rules_for
from handlerlens.platforms.rules import PlatformRules, is_placeholder
from handlerlens.platforms.triggers import HTTP_PROXY_TRIGGERS


def is_http_proxy(spec: FunctionSpec) -> bool:
    """Whether every event `spec` is known to get comes from an HTTP proxy integration (API
    Gateway proxy, HTTP API, function URL; Yandex HTTP invocation or API Gateway), so that
    what it returns is an HTTP response. Not for a guess, an undeclared trigger, a mapping
    template (`custom_event`) or any other trigger: there any JSON value is a fine reply."""
    proxies = HTTP_PROXY_TRIGGERS.get(spec.platform, frozenset())
    triggers = spec.triggers or ((spec.trigger,) if spec.trigger else ())
    return (
        spec.platform_known
        and not spec.custom_event
        and bool(triggers)
        and all(t in proxies for t in triggers)
    )


_FILE_START = Span.of(0, 0)


@dataclass
class FunctionReport:
    """What validation learnt about one function: where its handler is, and what is wrong."""

    spec: FunctionSpec
    target: EntryTarget | None = None
    binding: Binding | None = None
    problems: list[Problem] = field(default_factory=list)


def _platform_says(rules: PlatformRules | None, code: str, **facts: str) -> str:
    if rules is None:  # platform unknown: no platform's words to quote
        return ""
    text = rules.init_error_text.get(code)
    if text is None:
        return ""
    try:
        return f' {rules.title} would fail with "{text.format(**facts)}".'
    except (KeyError, IndexError):
        return ""


class _Reporter:
    """Builds problems for one function on its declaring file and its Python module."""

    def __init__(self, spec: FunctionSpec, rules: PlatformRules) -> None:
        self.spec = spec
        self.rules = rules
        self.problems: list[Problem] = []
        self.where = os.path.basename(spec.declared_in) if spec.declared_in else None

    def entry_fault(
        self,
        rules: PlatformRules | None,
        severity: Severity,
        code: str,
        detail: str,
        suggestion: str | None,
        **facts: str,
    ) -> None:
        """An entry point that does not resolve, on the declaration: what is wrong, the
        platform's own words for it (`rules` None: none), a suggestion and its fix."""
        said = _platform_says(rules, code, entry=self.spec.entry, **facts)
        hint = f" Did you mean '{suggestion}'?" if suggestion else ""
        message = f"Entry point '{self.spec.entry}': {detail}.{said}{hint}"
        self.on_config(severity, code, message, self.entry_fix(suggestion))

    def entry_fix(self, suggestion: str | None) -> tuple[Fix, ...]:
        if suggestion is None or self.spec.declared_in is None or self.spec.entry_span is None:
            return ()
        if not self.spec.entry_editable:
            return ()
        title = f"Change the entry point to '{suggestion}' in {self.where}"
        return (Fix(title, self.spec.declared_in, self.spec.entry_span, suggestion),)

    def on_config(
        self, severity: Severity, code: str, message: str, fixes: tuple[Fix, ...] = ()
    ) -> None:
        if self.spec.declared_in is None or self.spec.entry_span is None:
            return
        self.problems.append(
            Problem(self.spec.declared_in, self.spec.entry_span, severity, code, message, fixes)
        )

    def on_python(
        self,
        path: str,
        span: Span,
        severity: Severity,
        code: str,
        message: str,
        fixes: tuple[Fix, ...] = (),
    ) -> None:
        if self.where:
            message = f"{message} [function '{self.spec.name}' in {self.where}]"
        self.problems.append(Problem(path, span, severity, code, message, fixes))


def validate_function(spec: FunctionSpec, sources: Sources) -> FunctionReport:
    """Every problem with `spec`, on its declaring file and on its handler's module."""
    report = _validate(spec, sources)
    report.problems = _linked(report.problems, spec.declared_in)
    return report


# Mistakes whose fix goes in the declaration: the entry point names a function the module
# does not have (a typo on either side, but the declaration is what deploy reads). Every other
# mistake seen from both places is the Python file's (`handler = 42`, a syntax error).
_AT_DECLARATION = frozenset({"entry-point-function-missing"})


def _linked(problems: list[Problem], declared_in: str | None) -> list[Problem]:
    """One mistake seen from both places (the declaration and the Python file) is reported
    once — at the declaration for a misspelt entry point, else in the Python file — naming the
    other place as related information; the other place keeps it as a hint (an echo) that
    leads back. Editors show the hint there; `check` and Problems count the mistake once."""
    if declared_in is None:
        return problems
    on_config = {p.code: p for p in problems if p.path == declared_in}
    on_python = {p.code: p for p in problems if p.path != declared_in}
    if not on_config.keys() & on_python.keys():
        return problems
    out = []
    for p in problems:
        here = p.path == declared_in
        other = (on_python if here else on_config).get(p.code)
        if other is None:
            out.append(p)
            continue
        primary = here == (p.code in _AT_DECLARATION)
        if primary:
            note = (
                f"the module it names: {os.path.basename(other.path)}"
                if here
                else f"the declaration that names it: {os.path.basename(other.path)}"
            )
            out.append(replace(p, related=((other.path, other.span, note),)))
        else:
            note = f"reported in {os.path.basename(other.path)}"
            if other.path == declared_in:
                note = f"reported at the declaration in {os.path.basename(other.path)}"
            out.append(
                replace(
                    p,
                    severity=Severity.HINT,
                    echo=True,
                    related=((other.path, other.span, note),),
                )
            )
    return out


def _validate(spec: FunctionSpec, sources: Sources) -> FunctionReport:
    rules = rules_for(spec.platform)
    # A guessed function of unknown platform gets only the checks that hold on both.
    quoted = rules if spec.platform_known else None
    report = FunctionReport(spec)
    out = _Reporter(spec, rules)
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
        said = _platform_says(
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
    _check_binding(spec, rules, resolved, info, out, report)
    report.problems = out.problems
    return report


def _syntax_unchecked(spec: FunctionSpec, out: _Reporter, path: str, message: str) -> None:
    text = unchecked_text(spec, path, message)
    out.on_config(Severity.INFO, SYNTAX_UNCHECKED, f"Entry point '{spec.entry}': {text}")
    out.on_python(path, Span.of(0, 0), Severity.INFO, SYNTAX_UNCHECKED, text)


def _report_packed(spec: FunctionSpec, rules: PlatformRules, out: _Reporter) -> None:
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


def _a(noun: str) -> str:
    """`noun` with its indefinite article: 'a str', 'an int'."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _check_runtime(spec: FunctionSpec, rules: PlatformRules, out: _Reporter) -> None:
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


def _check_binding(
    spec: FunctionSpec,
    rules: PlatformRules,
    target: EntryTarget,
    info: ModuleInfo,
    out: _Reporter,
    report: FunctionReport,
) -> None:
    path = target.path
    assert path is not None and info.index is not None
    binding = info.bindings.get(target.function)
    module_base = os.path.basename(path)
    if binding is None:
        if info.has_module_getattr or info.star_imports:
            how = "a module __getattr__" if info.has_module_getattr else "a star import"
            out.on_config(
                Severity.INFO,
                "handler-unverifiable",
                f"Entry point '{spec.entry}': '{target.function}' may come from {how} in "
                f"{module_base}; it cannot be checked without running the code.",
            )
            return
        functions = [n for n, b in info.bindings.items() if b.kind in CALLABLE_KINDS]
        near = close_match(target.function, functions)
        suggestion = f"{spec.entry.rpartition('.')[0]}.{near}" if near else None
        said = _platform_says(
            rules, "entry-point-function-missing", module=target.module, function=target.function
        )
        hint = f" Did you mean '{near}'?" if near else ""
        entry_fixes = out.entry_fix(suggestion)
        out.on_config(
            Severity.ERROR,
            "entry-point-function-missing",
            f"Entry point '{spec.entry}': {module_base} has no top-level '{target.function}'."
            f"{said}{hint}",
            entry_fixes,
        )
        span = (
            info.bindings[near].span
            if near
            else (info.index.whole_line(0) if info.index.lines else _FILE_START)
        )
        out.on_python(
            path,
            span,
            Severity.ERROR,
            "entry-point-function-missing",
            f"The entry point '{spec.entry}' needs a top-level '{target.function}' in this "
            f"module, and there is none.{said}{hint}",
            entry_fixes,
        )
        return
    report.binding = binding
    if binding.kind == "literal" and binding.rebound:
        out.on_python(
            path,
            binding.span,
            Severity.INFO,
            "handler-unverifiable",
            f"'{target.function}' is bound to {_a(binding.literal_type)} in one branch and "
            "before that to something else (an import or a definition); which binding is in "
            "effect cannot be checked statically (it must be a function taking (event, context)).",
        )
        return
    if binding.kind == "literal":
        out.on_python(
            path,
            binding.span,
            Severity.ERROR,
            "handler-not-callable",
            f"'{target.function}' is bound to {_a(binding.literal_type)}, which cannot be called: "
            f"every invocation fails with TypeError: '{binding.literal_type}' object is not "
            "callable. Bind it to a function taking (event, context).",
        )
        out.on_config(
            Severity.ERROR,
            "handler-not-callable",
            f"Entry point '{spec.entry}': '{target.function}' is {_a(binding.literal_type)} in "
            f"{module_base}, not a function.",
        )
        return
    if binding.kind in ("assigned", "imported", "class") or (
        binding.kind == "function" and binding.decorated
    ):
        if binding.kind != "function":
            how = {"assigned": "assignment", "imported": "import", "class": "a class"}[binding.kind]
            out.on_python(
                path,
                binding.span,
                Severity.INFO,
                "handler-unverifiable",
                f"'{target.function}' is bound by {how}; its signature and return value cannot "
                "be checked without running the code (it must accept (event, context)).",
            )
        return
    fault = check_signature(binding, info.index)
    if fault is not None:
        fixes: tuple[Fix, ...] = ()
        if fault.insert_at is not None:
            at = Span(fault.insert_at, fault.insert_at)
            added = fault.insert_text.strip(", ")
            noun = "parameters" if "," in added else "parameter"
            fixes = (Fix(f"Add the '{added}' {noun}", path, at, fault.insert_text),)
        out.on_python(
            path,
            binding.span,
            Severity.ERROR,
            fault.code,
            f"Handler '{target.function}' {fault.detail}.",
            fixes,
        )
    if binding.is_async and rules.async_handler_severity is not None and spec.platform_known:
        said = _platform_says(rules, "handler-async-unsupported")
        out.on_python(
            path,
            binding.span,
            rules.async_handler_severity,
            "handler-async-unsupported",
            f"{rules.title} does not await handlers: an 'async def' handler returns a coroutine."
            f"{said} Make it a plain 'def' (run async code with asyncio.run inside it).",
        )
    if is_generator(binding, info.index):
        said = _platform_says(rules if spec.platform_known else None, "handler-generator")
        out.on_python(
            path,
            binding.span,
            rules.generator_handler_severity if spec.platform_known else Severity.WARNING,
            "handler-generator",
            f"Handler '{target.function}' is a generator (it uses 'yield'): the runtime gets a "
            f"generator object, not a response.{said} Return the value instead.",
        )
    # The chunk-relative node, its lines shifted here: `binding.node` would deep-copy the
    # whole function only to move every line number.
    node = binding.raw_node
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        known = spec.platform_known
        shift = binding.line_offset
        for rf in check_returns(node, rules, http_proxy=is_http_proxy(spec), platform_known=known):
            said = (
                _platform_says(rules if known else None, rf.code, type=rf.type_name)
                if rf.type_name
                else ""
            )
            end_line = rf.node.end_lineno
            span = info.index.span_ast(
                rf.node.lineno + shift,
                rf.node.col_offset,
                end_line + shift if end_line is not None else None,
                rf.node.end_col_offset,
            )
            severity = (
                Severity.ERROR if rf.code == "response-not-serializable" else Severity.WARNING
            )
            out.on_python(
                path, span, severity, rf.code, f"Handler '{target.function}' {rf.detail}.{said}"
            )
