"""What is wrong with the handler an entry point names, read from its module without running
it: missing (with the nearest name), bound to something not callable, bound in a way that
cannot be checked, a wrong signature, `async def` or a generator where the platform does not
await or iterate, and literal responses that would not serialise or are not HTTP responses
where the trigger wants one."""

from __future__ import annotations

import ast
import os

from handlerlens.analysis.entry_points import CALLABLE_KINDS, EntryTarget, close_match
from handlerlens.analysis.responses import check_returns
from handlerlens.analysis.signature import check_signature, is_generator
from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Fix, Severity, Span
from handlerlens.core.python_module import Binding, ModuleInfo
from handlerlens.engine.reporter import Reporter, platform_says
from handlerlens.platforms.rules import PlatformRules
from handlerlens.platforms.triggers import HTTP_PROXY_TRIGGERS

_FILE_START = Span.of(0, 0)


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


def _a(noun: str) -> str:
    """`noun` with its indefinite article: 'a str', 'an int'."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def check_binding(
    spec: FunctionSpec,
    rules: PlatformRules,
    target: EntryTarget,
    info: ModuleInfo,
    out: Reporter,
) -> Binding | None:
    """The handler's binding in its module (None: the module has none by that name, said on
    both places), and every problem with it, to `out`."""
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
            return None
        functions = [n for n, b in info.bindings.items() if b.kind in CALLABLE_KINDS]
        near = close_match(target.function, functions)
        suggestion = f"{spec.entry.rpartition('.')[0]}.{near}" if near else None
        said = platform_says(
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
        return None
    _check_bound(spec, rules, target, info, out, binding, path, module_base)
    return binding


def _check_bound(
    spec: FunctionSpec,
    rules: PlatformRules,
    target: EntryTarget,
    info: ModuleInfo,
    out: Reporter,
    binding: Binding,
    path: str,
    module_base: str,
) -> None:
    """The problems of a handler that is there: how it is bound, its signature, async or
    a generator, what it returns."""
    assert info.index is not None
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
        said = platform_says(rules, "handler-async-unsupported")
        out.on_python(
            path,
            binding.span,
            rules.async_handler_severity,
            "handler-async-unsupported",
            f"{rules.title} does not await handlers: an 'async def' handler returns a coroutine."
            f"{said} Make it a plain 'def' (run async code with asyncio.run inside it).",
        )
    if is_generator(binding, info.index):
        said = platform_says(rules if spec.platform_known else None, "handler-generator")
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
                platform_says(rules if known else None, rf.code, type=rf.type_name)
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
