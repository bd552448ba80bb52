"""The deploy checks of one function: follow its handler's imports through the code root and
judge each module the deployment must provide; the syntax and environment variables it uses.

Codes: `import-not-packaged`, `import-removed-in-runtime`, `syntax-newer-than-runtime`,
`env-var-undeclared`, `imports-unchecked` (info: a module on the way does not parse, or the
walk stopped), `requirements-invalid` (req_lines.py: a requirements.txt line pip rejects).
"""

from __future__ import annotations

import os
import re
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Fix, Problem, Severity, Span
from handlerlens.core.text import read_text
from handlerlens.deploy import dists, facts, stdlib
from handlerlens.deploy.environment import Environment, Environments
from handlerlens.deploy.layers import LAYER_FOLDER, LAYERS
from handlerlens.deploy.manifest import (
    MANIFEST_NAMES,
    Manifest,
    read_pipfile,
    read_pyproject,
    read_requirements,
)
from handlerlens.deploy.scan import FileScan, ImportRef, older_grammar_error, scan_file
from handlerlens.platforms.rules import is_placeholder, runtime_python
from handlerlens.project import parse_cache, probes

# A handler's import closure is cut here: a clear note, never a hang on a huge code root.
MAX_MODULES = 2_000
_SERVER = (sys.version_info[0], sys.version_info[1])
# Distributions whose import names are known exactly (AWS's preinstalled ones): never matched
# by name alone.
_KNOWN_HERE = facts.AWS_PREINSTALLED_DISTS
# The end of a message that names its function: " [function 'Orders' in template.yaml]".
_FOR_FUNCTION = re.compile(r" \[function '(.*)' in ([^\]]+)\]$")
_IMPORTING_MODULE = re.compile(r"Unable to import module '([^']*)'")
# A line setting a key: YAML `KEY: value`, HCL `KEY = value`, either maybe quoted.
_SETTER = re.compile(r"""^(\s*)(["']?)([\w.-]+)\2(\s*)([:=])\s*\S""")
_MODULE_SOURCE = re.compile(r'\bsource\s*=\s*"(\.{1,2}/[^"$]+)"')
# A declaring file whose environment is computed elsewhere.
_ENV_OPAQUE = re.compile(
    r"(?mi)environment\s*:\s*\$\{|\$\{file\(|variables\s*=\s*(?:var|local|merge|module|jsondecode)"
    r"\b|Variables\s*:\s*!|\"Variables\"\s*:\s*\{\s*\"(?:Fn::|Ref)|Fn::Transform|env_file|dotenv"
)
# The same, case-sensitive, for an ASCII text lowercased: the same answer (ASCII letters fold
# only to each other) in a sixth of the time (sre finds no literal to skip ahead to under
# IGNORECASE; a big template's search was most of the deploy checks' cost).
_ENV_OPAQUE_LOWER = re.compile(_ENV_OPAQUE.pattern.replace("(?mi)", "(?m)").lower())


@dataclass
class DeployResult:
    """Problems of one function and the files they were read from (for invalidation)."""

    problems: list[Problem] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    env_reads: dict[str, list[str]] = field(default_factory=dict)  # path → names read
    # Top-level modules imported but not found in the code root: a file of that name appearing
    # there (a helper created after the import was written) changes the verdict.
    unresolved: set[str] = field(default_factory=set)


class _Declaring:
    """What the deploy checks read in the text of what declares a function, each computed when
    first asked (most functions need none of it: an import judged by the standard library or
    the manifest, an environment variable the declaration names) and kept for the functions
    declared by the same text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._layers: bool | None = None
        self._env_opaque: bool | None = None

    @property
    def layers(self) -> bool:
        """Whether the declaration gives functions layers."""
        if self._layers is None:
            self._layers = bool(LAYERS.search(self.text))
        return self._layers

    @property
    def env_opaque(self) -> bool:
        """Whether the declaration computes the environment or reads it from elsewhere."""
        if self._env_opaque is None:
            text = self.text
            if text.isascii():
                self._env_opaque = _ENV_OPAQUE_LOWER.search(text.lower()) is not None
            else:
                self._env_opaque = _ENV_OPAQUE.search(text) is not None
        return self._env_opaque

    def has_word(self, name: str) -> bool:
        """Whether `name` is one of the text's words (maximal runs of `[\\w-]`)."""
        if not _WORD.fullmatch(name):
            return False
        text, at = self.text, self.text.find(name)
        while at >= 0:
            end = at + len(name)
            if (at == 0 or not _WORD.match(text, at - 1)) and not _WORD.match(text, end):
                return True
            at = text.find(name, at + 1)
        return False


_WORD = re.compile(r"[\w-]+")
_NO_DECLARATION = _Declaring("")


@dataclass
class _Context:
    spec: FunctionSpec
    version: tuple[int, int] | None
    handler_module: str
    where: str  # " [function 'x' in template.yaml]"
    manifest: Manifest
    manifest_path: str | None  # the manifest a fix should add to
    installed: set[str]  # canonical distribution names installed with the deployment
    undecided: set[str]  # installed distributions whose dependencies are unknown here
    declaring: _Declaring
    env: Environment | None  # the function's environment, None: none found


class DeployChecker:
    """Runs the deploy checks with the caches they share across functions and edits."""

    def __init__(self, sources: Sources, environments: Environments | None = None) -> None:
        self.sources = sources
        # The function's interpreter and its distributions, per code root (environment.py).
        self.environments = environments or Environments()
        self._listings: dict[str, tuple[int, frozenset[str]]] = {}
        # Texts read during one update (many functions share files): dropped after it.
        self.memo: dict[str, str | None] = {}
        self.memo_folders: set[str] = set()
        # Per declaring file (its paths): its text and what was read in it.
        self._declaring: dict[str, tuple[str, _Declaring]] = {}
        self._setter_cache: dict[
            str, tuple[str, list[str], dict[str, list[tuple[int, re.Match[str]]]]]
        ] = {}
        self._manifests: dict[
            tuple[str, tuple[int, int] | None], tuple[tuple[object, ...], Manifest, str | None]
        ] = {}

    # -- files ---------------------------------------------------------------------------

    def text(self, path: str) -> str | None:
        """The current text of `path`, read once per update."""
        if path in self.memo:
            return self.memo[path]
        text = self.memo[path] = self.sources.text(path)
        return text

    def _declaring_facts(self, path: str, text: str) -> _Declaring:
        hit = self._declaring.get(path)
        if hit is None or hit[0] != text:
            hit = (text, _Declaring(text))
            self._declaring[path] = hit
        return hit[1]

    def _declaring_text(self, spec: FunctionSpec) -> tuple[str, str | None]:
        """The text of what declares `spec`: its declaring file (and the files its runtime and
        code root are set in); for Terraform, every .tf file of that folder and of the local
        modules they call (a resource's layers and environment are often in a module, a
        handler's value in variables.tf)."""
        if not spec.declared_in:
            return "", None
        paths = [spec.declared_in]
        paths += [p for p in (spec.runtime_declared_in, spec.root_declared_in) if p]
        if spec.declared_by == "terraform":
            folders = [os.path.dirname(spec.declared_in)]
            for folder in list(folders):
                tf = [os.path.join(folder, n) for n in sorted(self._names(folder))]
                tf = [p for p in tf if p.endswith(".tf")]
                paths += tf
                for path in tf:
                    for match in _MODULE_SOURCE.finditer(self.text(path) or ""):
                        sub = os.path.normpath(os.path.join(folder, match.group(1)))
                        if sub not in folders and len(folders) < 20:
                            folders.append(sub)
                            paths += [
                                os.path.join(sub, n)
                                for n in sorted(self._names(sub))
                                if n.endswith(".tf")
                            ]
        unique = list(dict.fromkeys(paths))
        texts = [self.text(p) for p in unique]
        if texts[0] is None:
            return "", None
        return "\0".join(unique), "\n".join(t or "" for t in texts)

    def _names(self, folder: str) -> frozenset[str]:
        hit = self._listings.get(folder)
        if hit is not None and folder in self.memo_folders:
            return hit[1]  # already compared with the disk during this update
        try:
            stamp = os.stat(folder).st_mtime_ns
        except OSError:
            return frozenset()
        self.memo_folders.add(folder)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        names = frozenset(self.sources.listdir(folder))
        self._listings[folder] = (stamp, names)
        return names

    def _module_file(self, base: str, parts: list[str]) -> str | None:
        """`base/a/b.py` or `base/a/b/__init__.py` for parts [a, b], if present."""
        folder = os.path.join(base, *parts[:-1]) if len(parts) > 1 else base
        names = self._names(folder)
        last = parts[-1]
        if f"{last}.py" in names:
            return os.path.join(folder, f"{last}.py")
        if last in names:
            init = os.path.join(folder, last, "__init__.py")
            if self.sources.exists(init):
                return init
        return None

    def _provides(self, base: str, top: str) -> bool:
        """Whether folder `base` holds a top-level module or package named `top`."""
        names = self._names(base)
        if f"{top}.py" in names or top in names:
            return True
        return any(n.startswith(f"{top}.") and n.endswith((".so", ".pyd")) for n in names)

    def _manifest(self, root: str, version: tuple[int, int] | None) -> tuple[Manifest, str | None]:
        """What the deployment installs, read from the code root's manifest, and the file a
        fix should add to (None: no manifest; a new requirements.txt then)."""
        candidates = [
            os.path.join(root, n) for n in ("requirements.txt", "pyproject.toml", "Pipfile")
        ]
        stamp = [self._stamp(path) for path in candidates]
        key = (root, version)
        hit = self._manifests.get(key)
        if (
            hit is not None
            and hit[0] == tuple(stamp)
            # the files `-r` included, as they were when read
            and all(self._stamp(p) == s for p, s in hit[1].stamps.items())
        ):
            return hit[1], hit[2]
        store = parse_cache.active()
        if store is None:
            manifest, target = self._read_manifest(candidates, stamp, version, read_text)
        else:
            # `check`: by the texts of the code root's manifests; the files they include, by
            # their modification stamps (probes.read_text records them).
            texts = [
                "absent" if s is None else _keyed(self.text(p))
                for p, s in zip(candidates, stamp, strict=True)
            ]
            entry = parse_cache.key("deploy-manifest", repr(version), root, *texts)
            manifest, target = store.memo(
                entry,
                lambda: self._read_manifest(candidates, stamp, version, probes.read_text),
            )
        manifest.stamps = {p: self._stamp(p) for p in manifest.files if p not in candidates}
        self._manifests[key] = (tuple(stamp), manifest, target)
        return manifest, target

    def _read_manifest(
        self,
        candidates: list[str],
        stamp: list[object],
        version: tuple[int, int] | None,
        read: Callable[[str], str | None],
    ) -> tuple[Manifest, str | None]:
        manifest = Manifest()
        target: str | None = None
        req, pyproject, pipfile = candidates
        if stamp[0] is not None:
            read_requirements(req, manifest, version, text=self.text(req), read=read)
            target = req
        elif stamp[1] is not None and read_pyproject(pyproject, manifest, version):
            target = None  # a pyproject's dependencies are edited by hand
        elif stamp[2] is not None and read_pipfile(pipfile, manifest):
            target = None
        return manifest, target

    def _stamp(self, path: str) -> object:
        """What tells a manifest's versions apart: its unsaved text, else its mtime and size."""
        text = self.sources.overlays.get(path)
        if text is not None:
            return text
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    # -- the check -----------------------------------------------------------------------

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
            self._declaring_facts(key, declaring) if declaring is not None else _NO_DECLARATION
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
        ctx = _Context(
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

    def _walk(self, ctx: _Context, handler_path: str, result: DeployResult) -> None:
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
                            Problem(
                                path,
                                ref.span,
                                Severity.INFO,
                                "imports-unchecked",
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
                            Problem(
                                path,
                                ref.span,
                                Severity.INFO,
                                "imports-unchecked",
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

    def _judge_env(self, ctx: _Context, path: str, scan: FileScan, result: DeployResult) -> None:
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

    def _local(self, top: str, importer: str, root: str) -> bool:
        return self._provides(root, top) or self._provides(os.path.dirname(importer), top)

    def _judge_imports(
        self, ctx: _Context, path: str, scan: FileScan, sys_path_changed: bool, result: DeployResult
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
        self, ctx: _Context, ref: ImportRef, top: str, sys_path_changed: bool, path: str
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
                return Problem(
                    path,
                    ref.span,
                    Severity.INFO if ref.guarded else Severity.ERROR,
                    "import-removed-in-runtime",
                    f"'{top}' was removed from the standard library in Python "
                    f"{removed[0]}.{removed[1]}, and the function's runtime {runtime} is Python "
                    f'{version[0]}.{version[1]}. {title} would fail with "{said}".{hint}'
                    f"{ctx.where}",
                )
            if stdlib.is_stdlib_somewhere(top):
                said = facts.import_error_text(spec.platform, ctx.handler_module, top)
                return Problem(
                    path,
                    ref.span,
                    Severity.INFO if ref.guarded else Severity.ERROR,
                    "import-removed-in-runtime",
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

    def _in_local_layer(self, ctx: _Context, top: str) -> bool:
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

    def _requirement_names(self, path: str, version: tuple[int, int] | None) -> set[str]:
        """The distributions a requirements file (a layer's) installs; in `check`, kept in the
        parse cache by its text (the files it includes, by their stamps)."""
        text = self.text(path)
        store = parse_cache.active()

        def read(reader: Callable[[str], str | None]) -> set[str]:
            manifest = Manifest()
            read_requirements(path, manifest, version, text=text, read=reader)
            return manifest.names

        if store is None:
            return read(read_text)
        entry = parse_cache.key("deploy-requirements", repr(version), path, _keyed(text))
        return store.memo(entry, lambda: read(probes.read_text))

    def _not_packaged(
        self, ctx: _Context, ref: ImportRef, top: str, sys_path_changed: bool, path: str
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

    def _add_fix(self, ctx: _Context, requirement: str) -> Fix:
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

    def _judge_syntax(self, ctx: _Context, path: str, result: DeployResult) -> None:
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


def _keyed(text: str | None) -> str:
    return "unreadable" if text is None else f"text {text}"


def _rel_folder(spec: FunctionSpec) -> str:
    """The code root as the declaring file names it (`app/`), "" when it is that folder."""
    base = os.path.dirname(spec.declared_in) if spec.declared_in else spec.root
    rel = os.path.relpath(spec.root, base)
    if rel == ".":
        return ""
    return rel.replace(os.sep, "/") + "/"


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
