"""`import-not-packaged` and `import-removed-in-runtime`: each top-level module a file of the
handler's import closure imports, judged against what the deployment provides — the runtime's
standard library, the code root, the platform's preinstalled packages, the manifest with what
its requirements install (dists.py, read from the function's environment), local layers —
with the platform's error text and a fix that adds the requirement.
"""

from __future__ import annotations

import os

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Fix, Problem, Severity, Span
from handlerlens.deploy import dists, facts, stdlib
from handlerlens.deploy.layers import LAYER_FOLDER
from handlerlens.deploy.reading import Context, DeployFiles, DeployResult
from handlerlens.deploy.scan import FileScan, ImportRef

# Distributions whose import names are known exactly (AWS's preinstalled ones): never matched
# by name alone.
_KNOWN_HERE = facts.AWS_PREINSTALLED_DISTS


class ImportJudge(DeployFiles):
    """The import checks of DeployChecker."""

    def _local(self, top: str, importer: str, root: str) -> bool:
        return self._provides(root, top) or self._provides(os.path.dirname(importer), top)

    def _judge_imports(
        self, ctx: Context, path: str, scan: FileScan, sys_path_changed: bool, result: DeployResult
    ) -> None:
        spec = ctx.spec
        judged: set[str] = set()
        for ref in scan.imports:
            if ref.level or ref.type_checking or not ref.module:
                continue
            top = ref.module.split(".")[0]
            if top in judged:
                continue  # the first import of a module in a file is where it fails
            judged.add(top)
            if top in ("__future__", "__main__") or self._local(top, path, spec.root):
                continue
            result.unresolved.add(top)
            problem = self._judge(ctx, ref, top, sys_path_changed, path)
            if problem is not None:
                result.problems.append(problem)

    def _judge(
        self, ctx: Context, ref: ImportRef, top: str, sys_path_changed: bool, path: str
    ) -> Problem | None:
        spec, version = ctx.spec, ctx.version
        title = "AWS Lambda" if spec.platform == "aws" else "Yandex Cloud Functions"
        runtime = spec.runtime or ""
        if version is not None:
            if top in stdlib.stdlib_modules(version):
                return None
            removed = stdlib.removed_in(top, version)
            if removed is not None:
                same = stdlib.SAME_NAME_PACKAGES.get(top)
                if same is not None and same in ctx.installed:
                    return None
                said = facts.import_error_text(spec.platform, ctx.handler_module, top)
                replacement = stdlib.REPLACEMENTS.get(top)
                hint = f" Use '{replacement}' instead." if replacement else ""
                if same is not None:
                    hint = f" '{same}' on PyPI provides it: add it to the requirements." + (
                        f" Or use '{replacement}'." if replacement != same else ""
                    )
                return _not_in_stdlib(
                    ref,
                    path,
                    f"'{top}' was removed from the standard library in Python "
                    f"{removed[0]}.{removed[1]}, and the function's runtime {runtime} is Python "
                    f'{version[0]}.{version[1]}. {title} would fail with "{said}".{hint}'
                    f"{ctx.where}",
                )
            if stdlib.is_stdlib_somewhere(top):
                said = facts.import_error_text(spec.platform, ctx.handler_module, top)
                return _not_in_stdlib(
                    ref,
                    path,
                    f"'{top}' is not in the standard library of Python "
                    f"{version[0]}.{version[1]} (the function's runtime {runtime}): a newer "
                    f'Python added it. {title} would fail with "{said}".{ctx.where}',
                )
        elif stdlib.is_stdlib_somewhere(top):
            return None
        if spec.platform == "aws" and (
            top in facts.AWS_PREINSTALLED or top in facts.AWS_MAYBE_PREINSTALLED
        ):
            return None
        if (
            spec.platform == "yandex"
            and runtime in facts.YANDEX_SDK_RUNTIMES
            and top in facts.YANDEX_PREINSTALLED
        ):
            return None
        # Each way out below says the same (no problem): the cheap ones first, what reads
        # the metadata installed here (the import map) and the declaring text last.
        if dists.known_dists_for_import(top) & ctx.installed:
            return None
        if any(dists.may_provide(top, d) for d in ctx.installed - _KNOWN_HERE):
            return None  # a requirement whose name suggests it (not installed here to read)
        if spec.declared_by == "heuristic" or not spec.platform_known:
            return None  # nothing says how a guessed function is deployed
        if dists.dists_for_import(top, ctx.env) & ctx.installed:
            return None
        if ctx.declaring.layers and self._in_local_layer(ctx, top):
            return None
        return self._not_packaged(ctx, ref, top, sys_path_changed, path)

    def _in_local_layer(self, ctx: Context, top: str) -> bool:
        """Whether a layer built from a folder of the project (SAM `ContentUri: layers/x`,
        Serverless `path: layers/x`, Terraform `source_dir = "${path.module}/layers/x"`)
        provides `top`: in its `python/` folder, at its top, or in its requirements.txt."""
        spec = ctx.spec
        pattern = LAYER_FOLDER.get(spec.declared_by)
        if pattern is None or not spec.declared_in:
            return False
        base = os.path.dirname(spec.declared_in)
        text = self.text(spec.declared_in) or ""
        wanted = dists.dists_for_import(top, ctx.env)
        for match in pattern.finditer(text):
            folder = os.path.normpath(os.path.join(base, match.group(1).strip("'\"")))
            if not folder.startswith(base):
                continue
            if self._provides(os.path.join(folder, "python"), top) or self._provides(folder, top):
                return True
            requirements = os.path.join(folder, "requirements.txt")
            if self._stamp(requirements) is not None:
                if wanted & self._requirement_names(requirements, ctx.version):
                    return True
        return False

    def _not_packaged(
        self, ctx: Context, ref: ImportRef, top: str, sys_path_changed: bool, path: str
    ) -> Problem:
        spec = ctx.spec
        title = "AWS Lambda" if spec.platform == "aws" else "Yandex Cloud Functions"
        root_rel = _rel_folder(spec)
        requirement = dists.suggested_requirement(top, ctx.env)
        manifest_name = (
            os.path.relpath(ctx.manifest.files[0], spec.root) if ctx.manifest.files else None
        )
        doubt = ""
        if ref.guarded:
            doubt = " It is imported under `except ImportError`, so the code may do without it."
        elif ctx.declaring.layers:
            doubt = " The function has layers, which may provide it (not checked)."
        elif sys_path_changed:
            doubt = " The code changes sys.path, so it may be found elsewhere (not checked)."
        elif ctx.undecided:
            names = ", ".join(sorted(ctx.undecided)[:3])
            where = (
                f"in the function's environment ({ctx.env.label})"
                if ctx.env is not None
                else "here, and no environment of the function was found to read"
            )
            doubt = (
                f" It may come as a dependency of {names} (not installed {where}, so what "
                "it installs is unknown): could not decide."
            )
        severity = Severity.INFO if doubt else Severity.ERROR
        said = facts.import_error_text(spec.platform, ctx.handler_module, top)
        if manifest_name is None:
            missing = f"the code root ({root_rel or './'}) has no requirements.txt"
        else:
            missing = f"{manifest_name} does not list '{requirement}'"
        fixes: tuple[Fix, ...] = ()
        if ctx.manifest_path is not None or manifest_name is None:
            fixes = (self._add_fix(ctx, requirement),)
        if manifest_name is not None and ctx.manifest_path is None:
            add_to = f"{root_rel}{manifest_name}"  # a pyproject.toml or Pipfile
        else:
            add_to = f"{root_rel}requirements.txt"
        found = (
            f"it is not in the standard library, the code root or what the platform "
            f"preinstalls, and {missing}."
        )
        if doubt:
            head = f"'{top}' may be missing from the deployment: {found}{doubt}"
        else:
            head = f"'{top}' is not in the deployment: {found} {title} would fail with \"{said}\"."
        return Problem(
            path,
            ref.span,
            severity,
            "import-not-packaged",
            f"{head} Add '{requirement}' to {add_to}.{ctx.where}",
            fixes,
        )

    def _add_fix(self, ctx: Context, requirement: str) -> Fix:
        path = ctx.manifest_path or os.path.join(ctx.spec.root, "requirements.txt")
        text = self.text(path) if ctx.manifest_path else None
        shown = f"{_rel_folder(ctx.spec)}requirements.txt"
        title = f"Add '{requirement}' to {shown}"
        if text is None:
            return Fix(title, path, Span.of(0, 0), f"{requirement}\n")
        lines = text.split("\n")
        if text.endswith("\n"):
            end = Span.of(len(lines) - 1, 0)
            return Fix(title, path, end, f"{requirement}\n")
        last = len(lines) - 1
        from handlerlens.core.text import utf16_column

        col = utf16_column(lines[last], len(lines[last]))
        return Fix(title, path, Span.of(last, col), f"\n{requirement}\n")


def _not_in_stdlib(ref: ImportRef, path: str, message: str) -> Problem:
    """import-removed-in-runtime: an error, an info for an import guarded by ImportError."""
    severity = Severity.INFO if ref.guarded else Severity.ERROR
    return Problem(path, ref.span, severity, "import-removed-in-runtime", message)


def _rel_folder(spec: FunctionSpec) -> str:
    """The code root as the declaring file names it (`app/`), "" when it is that folder."""
    base = os.path.dirname(spec.declared_in) if spec.declared_in else spec.root
    rel = os.path.relpath(spec.root, base)
    if rel == ".":
        return ""
    return rel.replace(os.sep, "/") + "/"
