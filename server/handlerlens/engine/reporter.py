"""The problems of one function as validation finds them: on its declaring file (the entry
point's span, with a fix where a close name is known) or on its handler's module (naming the
declaration), in the platform's own words where it has them."""

from __future__ import annotations

import os

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Fix, Problem, Severity, Span
from handlerlens.platforms.rules import PlatformRules


def platform_says(rules: PlatformRules | None, code: str, **facts: str) -> str:
    """` <Platform> would fail with "…".`: the platform's own words for `code`, or ""."""
    if rules is None:  # platform unknown: no platform's words to quote
        return ""
    text = rules.init_error_text.get(code)
    if text is None:
        return ""
    try:
        return f' {rules.title} would fail with "{text.format(**facts)}".'
    except (KeyError, IndexError):
        return ""


class Reporter:
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
        said = platform_says(rules, code, entry=self.spec.entry, **facts)
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
