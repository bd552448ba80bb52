"""The deploy checks of one function: follow its handler's imports through the code root and
judge each file on the way — the modules it imports (judge_imports.py), the syntax the declared
runtime cannot parse, the environment variables it reads (judge_env.py).
"""

from __future__ import annotations

import os
import sys
from collections import deque

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.deploy import dists, facts
from handlerlens.deploy.grammar import older_grammar_error
from handlerlens.deploy.judge_env import EnvJudge
from handlerlens.deploy.judge_imports import ImportJudge
from handlerlens.deploy.reading import NO_DECLARATION, Context, DeployResult
from handlerlens.deploy.scan import FileScan, ImportRef, scan_file
from handlerlens.platforms.rules import is_placeholder, runtime_python

# A handler's import closure is cut here: a clear note, never a hang on a huge code root.
MAX_MODULES = 2_000
_SERVER = (sys.version_info[0], sys.version_info[1])


def _unchecked(path: str, span: Span, why: str) -> Problem:
    """The note that what an import reaches was not checked, and why."""
    return Problem(path, span, Severity.INFO, "imports-unchecked", why)


class DeployChecker(ImportJudge, EnvJudge):
    """Runs the deploy checks with the caches they share across functions and edits."""

    def check(self, spec: FunctionSpec, handler_path: str, handler_module: str) -> DeployResult:
        """Every deploy problem of `spec`, whose handler module is at `handler_path`."""
        result = DeployResult()
        version = (
            runtime_python(spec.runtime)
            if spec.runtime and not is_placeholder(spec.runtime)
            else None
        )
        manifest, manifest_path = self._manifest(spec.root, version)
        result.files |= set(manifest.files)
        installed = set(manifest.names)
        if spec.platform == "aws" and spec.platform_known:
            installed |= facts.AWS_PREINSTALLED_DISTS
        env = self.environments.environment(spec.root, spec.runtime)
        closure, undecided = dists.closure(installed, env)
        key, declaring = self._declaring_text(spec)
        facts_of = (
            self._declaring_facts(key, declaring) if declaring is not None else NO_DECLARATION
        )
        where = (
            f" [function '{spec.name}' in {os.path.basename(spec.declared_in)}]"
            if spec.declared_in
            else ""
        )
        # Lines pip rejects, where the deploy runs pip on the file: Yandex's build, `sam build`,
        # Serverless's serverless-python-requirements (a Terraform zip installs nothing).
        pip_runs = (
            (spec.platform == "yandex" and spec.platform_known)
            or spec.declared_by == "sam"
            or (
                spec.declared_by == "serverless"
                and "serverless-python-requirements" in (declaring or "")
            )
        )
        text = self.text(manifest_path) if manifest_path is not None and pip_runs else None
        if manifest_path is not None and text is not None:
            from handlerlens.deploy import req_lines

            bad, included = req_lines.rejected(manifest_path, text, where, self.text)
            result.problems += bad
            result.files |= set(included)
        ctx = Context(
            spec,
            version,
            handler_module,
            where,
            manifest,
            manifest_path,
            closure,
            undecided | ({"(unnamed)"} if manifest.unnamed else set()),
            facts_of,
            env,
        )
        self._walk(ctx, handler_path, result)
        return result

    def _walk(self, ctx: Context, handler_path: str, result: DeployResult) -> None:
        root = ctx.spec.root
        queue: deque[str] = deque([handler_path])
        seen = {handler_path}
        scans: list[tuple[str, FileScan]] = []
        while queue:
            path = queue.popleft()
            text = self.text(path)
            result.files.add(path)
            if text is None:
                continue
            scan = scan_file(path, text)
            if not scan.parsed:
                continue  # the handler's own syntax error is reported by validation
            scans.append((path, scan))
            for ref in scan.imports:
                if ref.type_checking:
                    continue
                for found in self._follow(ref, path, root):
                    if found in seen:
                        continue
                    if len(seen) >= MAX_MODULES:
                        result.problems.append(
                            _unchecked(
                                path,
                                ref.span,
                                f"The import check stopped after {MAX_MODULES} modules reached "
                                f"from the handler; modules past this import were not checked."
                                f"{ctx.where}",
                            )
                        )
                        queue.clear()
                        break
                    seen.add(found)
                    found_text = self.text(found)
                    # Only a statement that imports can hide an import: one that does not
                    # parse elsewhere leaves what the module imports known.
                    if found_text is not None and not scan_file(found, found_text).parsed:
                        result.files.add(found)
                        result.problems.append(
                            _unchecked(
                                path,
                                ref.span,
                                f"{os.path.relpath(found, root)} does not parse with Python "
                                f"{_SERVER[0]}.{_SERVER[1]} (which HandlerLens runs on), so what "
                                f"it imports is unknown and was not checked.{ctx.where}",
                            )
                        )
                        continue
                    queue.append(found)
        sys_path_changed = any("sys.path" in (self.text(p) or "") for p, _ in scans)
        for path, scan in scans:
            self._judge_imports(ctx, path, scan, sys_path_changed, result)
            self._judge_syntax(ctx, path, result)
            if scan.env_reads:
                result.env_reads[path] = [r.name for r in scan.env_reads]
                self._judge_env(ctx, path, scan, result)

    def _follow(self, ref: ImportRef, importer: str, root: str) -> list[str]:
        """Files of the code root (or beside `importer`) that `ref` imports."""
        parts = [p for p in ref.module.split(".") if p]
        bases: list[str]
        if ref.level:
            base = os.path.dirname(importer)
            for _ in range(ref.level - 1):
                base = os.path.dirname(base)
            bases = [base]
        else:
            bases = list(dict.fromkeys([root, os.path.dirname(importer)]))
        out: list[str] = []
        for base in bases:
            if parts:
                module = self._module_file(base, parts)
                if module is not None:
                    out.append(module)
            for name in ref.names:
                if name == "*":
                    continue
                sub = self._module_file(base, [*parts, name]) if name.isidentifier() else None
                if sub is not None:
                    out.append(sub)
            if out:
                break
        return out

    def _judge_syntax(self, ctx: Context, path: str, result: DeployResult) -> None:
        version = ctx.version
        if version is None or version >= _SERVER:
            return  # a newer runtime's grammar is the existing syntax-unchecked info
        text = self.text(path)
        if text is None:
            return
        found = older_grammar_error(text, max(version, (3, 7)))
        if found is None:
            return
        span, message = found
        spec = ctx.spec
        title = "AWS Lambda" if spec.platform == "aws" else "Yandex Cloud Functions"
        line = span.start.line + 1
        said = facts.syntax_error_text(
            spec.platform,
            ctx.handler_module,
            f"invalid syntax ({os.path.basename(path)}, line {line})",
        )
        result.problems.append(
            Problem(
                path,
                span,
                Severity.ERROR,
                "syntax-newer-than-runtime",
                f"{message}, and the function's runtime {spec.runtime} is Python "
                f"{version[0]}.{version[1]}: the module cannot be imported there. {title} would "
                f'fail with "{said}". Rewrite it for Python {version[0]}.{version[1]} or move '
                f"to a newer runtime.{ctx.where}",
            )
        )
