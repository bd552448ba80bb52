"""What the deploy checks read, cached across functions and edits: the files of a code root
(listings, module files), its dependency manifest, and the text of what declares a function
with the facts read in it (layers, an environment computed elsewhere); the result and context
types the checks share.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem
from handlerlens.core.text import read_text
from handlerlens.deploy.environment import Environment, Environments
from handlerlens.deploy.layers import LAYERS
from handlerlens.deploy.manifest import (
    Manifest,
    read_pipfile,
    read_pyproject,
    read_requirements,
)
from handlerlens.project import parse_cache, probes

_MODULE_SOURCE = re.compile(r'\bsource\s*=\s*"(\.{1,2}/[^"$]+)"')
# A declaring file whose environment is computed elsewhere.
ENV_OPAQUE = re.compile(
    r"(?mi)environment\s*:\s*\$\{|\$\{file\(|variables\s*=\s*(?:var|local|merge|module|jsondecode)"
    r"\b|Variables\s*:\s*!|\"Variables\"\s*:\s*\{\s*\"(?:Fn::|Ref)|Fn::Transform|env_file|dotenv"
)
# The same, case-sensitive, for an ASCII text lowercased: the same answer (ASCII letters fold
# only to each other) in a sixth of the time (sre finds no literal to skip ahead to under
# IGNORECASE; a big template's search was most of the deploy checks' cost).
ENV_OPAQUE_LOWER = re.compile(ENV_OPAQUE.pattern.replace("(?mi)", "(?m)").lower())


@dataclass
class DeployResult:
    """Problems of one function and the files they were read from (for invalidation)."""

    problems: list[Problem] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    env_reads: dict[str, list[str]] = field(default_factory=dict)  # path → names read
    # Top-level modules imported but not found in the code root: a file of that name appearing
    # there (a helper created after the import was written) changes the verdict.
    unresolved: set[str] = field(default_factory=set)


class Declaring:
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
                self._env_opaque = ENV_OPAQUE_LOWER.search(text.lower()) is not None
            else:
                self._env_opaque = ENV_OPAQUE.search(text) is not None
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
NO_DECLARATION = Declaring("")


@dataclass
class Context:
    spec: FunctionSpec
    version: tuple[int, int] | None
    handler_module: str
    where: str  # " [function 'x' in template.yaml]"
    manifest: Manifest
    manifest_path: str | None  # the manifest a fix should add to
    installed: set[str]  # canonical distribution names installed with the deployment
    undecided: set[str]  # installed distributions whose dependencies are unknown here
    declaring: Declaring
    env: Environment | None  # the function's environment, None: none found


class DeployFiles:
    """The files and declarations the deploy checks read, with the caches they share."""

    def __init__(self, sources: Sources, environments: Environments | None = None) -> None:
        self.sources = sources
        # The function's interpreter and its distributions, per code root (environment.py).
        self.environments = environments or Environments()
        self._listings: dict[str, tuple[int, frozenset[str]]] = {}
        # Texts read during one update (many functions share files): dropped after it.
        self.memo: dict[str, str | None] = {}
        self.memo_folders: set[str] = set()
        # Per declaring file (its paths): its text and what was read in it.
        self._declaring: dict[str, tuple[str, Declaring]] = {}
        self._setter_cache: dict[
            str, tuple[str, list[str], dict[str, list[tuple[int, re.Match[str]]]]]
        ] = {}
        self._manifests: dict[
            tuple[str, tuple[int, int] | None], tuple[tuple[object, ...], Manifest, str | None]
        ] = {}

    def text(self, path: str) -> str | None:
        """The current text of `path`, read once per update."""
        if path in self.memo:
            return self.memo[path]
        text = self.memo[path] = self.sources.text(path)
        return text

    def _declaring_facts(self, path: str, text: str) -> Declaring:
        hit = self._declaring.get(path)
        if hit is None or hit[0] != text:
            hit = (text, Declaring(text))
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
                "absent" if s is None else keyed(self.text(p))
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
        entry = parse_cache.key("deploy-requirements", repr(version), path, keyed(text))
        return store.memo(entry, lambda: read(probes.read_text))


def keyed(text: str | None) -> str:
    """A text as a parse-cache key part."""
    return "unreadable" if text is None else f"text {text}"
