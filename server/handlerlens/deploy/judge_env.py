"""`env-var-undeclared`: environment variables the code reads unguarded that the function's
declaration does not set (nor the platform), with a fix that declares one beside a variable the
declaring file already sets.
"""

from __future__ import annotations

import os
import re

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Fix, Problem, Severity, Span
from handlerlens.deploy import facts
from handlerlens.deploy.reading import Context, DeployFiles, DeployResult
from handlerlens.deploy.scan import FileScan

# A line setting a key: YAML `KEY: value`, HCL `KEY = value`, either maybe quoted.
_SETTER = re.compile(r"""^(\s*)(["']?)([\w.-]+)\2(\s*)([:=])\s*\S""")


class EnvJudge(DeployFiles):
    """The environment-variable check of DeployChecker."""

    def _judge_env(self, ctx: Context, path: str, scan: FileScan, result: DeployResult) -> None:
        spec = ctx.spec
        if spec.declared_by == "heuristic" or not spec.platform_known or not spec.declared_in:
            return  # nothing declares a guessed function's environment
        platform_env = facts.PLATFORM_ENV.get(spec.platform, {})
        unknown = [
            read
            for read in scan.env_reads
            if not (
                read.name in spec.env
                or read.name in platform_env
                or read.name in facts.ALWAYS_SET
                or read.name in scan.env_guarded
            )
        ]
        if not unknown or ctx.declaring.env_opaque:
            return  # (opaque: the environment is computed or read from elsewhere, undecidable)
        declaring = os.path.basename(spec.declared_in)
        for read in unknown:
            name = read.name
            if ctx.declaring.has_word(name):
                continue
            if read.how == "subscript":
                head = f"KeyError on deploy: '{name}'"
            else:
                head = f"None on deploy, used as a value: '{name}'"
            result.problems.append(
                Problem(
                    path,
                    read.span,
                    Severity.WARNING,
                    "env-var-undeclared",
                    f"{head} is not in function '{spec.name}' environment ({declaring}). The "
                    "deployed function gets only the variables its declaration sets and the "
                    f"platform's; declare it in {declaring}.",
                    self._env_fix(spec, name),
                )
            )

    def _setters(
        self, path: str, text: str
    ) -> tuple[list[str], dict[str, list[tuple[int, re.Match[str]]]]]:
        """The lines of a declaring file, and per key the lines that set it (`KEY: v`,
        `KEY = v`), read once per text."""
        hit = self._setter_cache.get(path)
        if hit is not None and hit[0] == text:
            return hit[1], hit[2]
        lines = text.split("\n")
        setters: dict[str, list[tuple[int, re.Match[str]]]] = {}
        for i, line in enumerate(lines):
            match = _SETTER.match(line)
            if match is not None:
                setters.setdefault(match.group(3), []).append((i, match))
        self._setter_cache[path] = (text, lines, setters)
        return lines, setters

    def _env_fix(self, spec: FunctionSpec, name: str) -> tuple[Fix, ...]:
        """Declare `name` beside a variable the function already declares, when exactly one
        line of the declaring file sets that variable (YAML `KEY: value`, HCL `KEY = value`)
        and the value fits on it; no fix otherwise (no guess where it would go)."""
        path = spec.declared_in
        text = self.text(path) if path else None
        if path is None or text is None or not spec.env:
            return ()
        lines, setters = self._setters(path, text)
        for key in spec.env:
            hits = setters.get(key, [])
            if len(hits) != 1:
                continue
            row, match = hits[0]
            indent = match.group(1)
            after = lines[row + 1] if row + 1 < len(lines) else ""
            if after.strip() and len(after) - len(after.lstrip()) > len(indent):
                continue  # a value over several lines
            quote, gap, sep = match.group(2), match.group(4), match.group(5)
            value = '""'
            new = (
                f"{indent}{quote}{name}{quote}{gap}{sep} {value}"
                if sep == "="
                else (f"{indent}{quote}{name}{quote}: {value}")
            )
            end = len(lines[row].rstrip("\r"))
            from handlerlens.core.text import utf16_column

            at = Span.of(row, utf16_column(lines[row], end))
            title = f"Declare '{name}' in {os.path.basename(path)} (beside '{key}')"
            return (Fix(title, path, at, "\n" + new),)
        return ()
