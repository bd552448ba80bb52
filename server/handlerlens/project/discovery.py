"""Walking a workspace into a ProjectModel: every declaring file, then the quiet heuristic."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlerlens.project.terraform_config import TerraformFile
    from handlerlens.project.walk import ConfigKind

import os
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem
from handlerlens.core.text import source_encoding
from handlerlens.project import forked, parse_cache, probes
from handlerlens.project.code_roots import code_root_problems
from handlerlens.project.config_files import MAX_TERRAFORM_CHARS, parse_as, too_big
from handlerlens.project.config_problems import (
    CODE_ROOT_UNRESOLVED,
    CONFIG_PARSE_ERROR,
    CONFIG_TEMPLATE,
    CONFIG_VALUE_UNRESOLVED,
    HANDLER_UNVERIFIABLE,
)
from handlerlens.project.heuristic import (
    EVENT_NAMES,
    MAX_SOURCE_CHARS,
    heuristic_functions,
    prescan,
)
from handlerlens.project.platform_evidence import FolderEvidence
from handlerlens.project.walk import (
    MAX_CONFIG_BYTES,
    config_kind,
    is_gateway_spec,
    is_within,
    walk_near,
    walk_project,
)

# Precedence when two declarations name the same code: earlier kinds win.
KIND_ORDER: tuple[ConfigKind, ...] = ("pyproject", "sam", "serverless", "terraform", "yc-cli")


@dataclass
class ProjectModel:
    """Every function found under a workspace root, plus problems in the declaring files."""

    root: str
    functions: list[FunctionSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    config_files: list[str] = field(default_factory=list)
    # Yandex API Gateway specs (walk.is_gateway_spec): they declare routes, not functions.
    gateway_specs: list[str] = field(default_factory=list)
    # Sentences about what discovery did not read (the walk's caps), for logs and `check`.
    notes: list[str] = field(default_factory=list)
    # Folders the quiet heuristic stays out of: every function's code root, and the folder of
    # every declaring file (one that does not parse yet included).
    covered: set[str] = field(default_factory=set)
    # What folders show about the platform of guessed functions, read once per discovery.
    folder_evidence: FolderEvidence = field(default_factory=FolderEvidence)


# What a handler-shaped function's first line must look like (`def handler(event, …`, any
# event name the heuristic accepts): files without one are not parsed for the guess (most
# Python files of a big tree; parsing them was 1.5 s of serverless-patterns' discovery).
_MAY_HOLD_HANDLER = re.compile(
    r"def\s+\w+\s*\(\s*_*(?:\w*_event|" + "|".join(sorted(EVENT_NAMES)) + r")\b", re.IGNORECASE
)
# The same on lowered ASCII text: found by a fast scan for its literal start (a third of the
# time over serverless-patterns' 1,400 Python files).
_MAY_HOLD_HANDLER_LOWER = re.compile(_MAY_HOLD_HANDLER.pattern.lower())


def _may_hold_handler(text: str) -> bool:
    if text.isascii():
        return _MAY_HOLD_HANDLER_LOWER.search(text.lower()) is not None
    return _MAY_HOLD_HANDLER.search(text) is not None


_PYTHON = re.compile("python", re.IGNORECASE)
# A literal runtime of another language, in YAML (`Runtime: nodejs20.x`) or JSON.
_OTHER_RUNTIME = re.compile(
    r"""["']?Runtime["']?\s*:\s*["']?(?:nodejs|java|go|dotnet|ruby|provided)""", re.IGNORECASE
)
# The same on lowered ASCII text (the optional quote before the key changes no answer).
_OTHER_RUNTIME_LOWER = re.compile(
    r"""runtime["']?\s*:\s*["']?(?:nodejs|java|go|dotnet|ruby|provided)"""
)

# Problems that show a file declares a function even when none could be read from it.
_DECLARES = frozenset(
    {
        CONFIG_PARSE_ERROR,
        CONFIG_VALUE_UNRESOLVED,
        CONFIG_TEMPLATE,
        CODE_ROOT_UNRESOLVED,
        HANDLER_UNVERIFIABLE,
    }
)

_CacheKey = tuple[str, str, str | None, str]
_V = TypeVar("_V")


class _Lru(Generic[_V]):
    """Parse results by (kind, path, setting, text): re-discovery after one save is cheap."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[_CacheKey, _V] = OrderedDict()

    def get(self, key: _CacheKey) -> _V | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: _CacheKey, value: _V) -> None:
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)


_parsed: _Lru[tuple[list[FunctionSpec], list[Problem], list[probes.Probe]]] = _Lru(256)
_terraform_files: _Lru[TerraformFile] = _Lru(1024)  # lark and the HCL grammar load lazily


def discover(
    root: str,
    *,
    platform_setting: str | None = None,
    overlays: Mapping[str, str] | None = None,
    near: list[str] | None = None,
) -> ProjectModel:
    """Every function the workspace under `root` declares (or, failing that, looks like).

    With `near` (files an editor has open), a first look only: the functions the declaring
    files in their folders and the folders above them declare (`walk.walk_near`), no guessed
    ones; the language server shows it while it reads the whole workspace.
    """
    # The `check` command may read Terraform on a second core; the language server never forks.
    checking = forked.checking
    root = os.path.normpath(os.path.abspath(root))
    opened = {os.path.normpath(os.path.abspath(p)): t for p, t in (overlays or {}).items()}
    model = ProjectModel(root)
    if near is None:
        candidates, python_files = walk_project(root, opened, model.notes)
    else:
        wanted = [os.path.normpath(os.path.abspath(p)) for p in near]
        # No guess: a declaring file elsewhere may cover these files (the full walk decides).
        candidates, python_files = walk_near(root, wanted, opened)[0], []
    # Started before the other declaring files are read: a child may read the .tf files.
    terraform = _TerraformStarted(
        [path for path in candidates if path.lower().endswith(".tf")], opened, checking=checking
    )

    by_kind: dict[ConfigKind, list[tuple[str, str]]] = {kind: [] for kind in KIND_ORDER}
    not_python: list[str] = []  # templates read but not parsed: every function is another language
    for path in candidates:
        if terraform.forked and path.lower().endswith(".tf"):
            continue  # the child reads it
        text = _read(path, opened)
        kind = config_kind(path, text) if text is not None else None
        if kind is None and text is not None and is_gateway_spec(path, text):
            model.gateway_specs.append(path)
        if kind is not None and text is not None and not too_big(kind, text):
            if kind == "sam" and not _may_declare_python(text):
                not_python.append(path)
                continue
            by_kind[kind].append((path, text))

    declared: list[FunctionSpec] = []
    declaring_dirs: list[str] = []
    platforms: dict[str, str] = {}
    terraform.files = sorted(by_kind["terraform"])
    prefetched: dict[str, str | None] = {}
    for kind in KIND_ORDER:
        files = sorted(by_kind[kind])
        if kind != "terraform":
            model.config_files += sorted(
                [path for path, _ in files] + (not_python if kind == "sam" else [])
            )
        if kind == "terraform":
            if terraform.forked:
                # While the child reads Terraform: the Python files the guess will look at,
                # as far as the declarations read so far tell.
                known = {os.path.normpath(s.root) for s in declared} | set(declaring_dirs)
                prefetched = _prefetch(
                    python_files, known, opened, root, platforms, platform_setting, model
                )
            (specs, problems), read = terraform()
            model.config_files += read
        else:
            specs, problems = [], []
            for path, text in files:
                found, issues = _parse_cached(kind, path, text, platform_setting)
                specs += found
                problems += issues
                if kind == "pyproject":
                    from handlerlens.project.pyproject_config import pyproject_platform

                    platform = pyproject_platform(text)
                    if platform is not None:
                        platforms[os.path.dirname(path)] = platform
        declared += specs
        declaring_dirs += [os.path.dirname(s.declared_in) for s in specs if s.declared_in]
        # A file that does not parse yet was meant to declare: guessing beside it would make
        # functions flicker in and out while it is being typed. One whose function's code
        # cannot be located declares it too: the files beside it are not that function.
        declaring_dirs += [os.path.dirname(p.path) for p in problems if p.code in _DECLARES]
        model.problems += problems

    model.functions = _unique(declared)
    for spec in model.functions:
        model.problems += code_root_problems(spec, root)
    covered = {os.path.normpath(d) for d in [s.root for s in model.functions] + declaring_dirs}
    model.covered = set(covered)
    folders = model.folder_evidence
    for path in python_files:
        if _under_any(path, covered):
            continue
        if path in prefetched:
            text = prefetched[path]
        else:
            text = _read(path, opened, MAX_SOURCE_CHARS, python=True)
        if text is None or not _may_hold_handler(text):
            continue
        guessed = _nearest(platforms, os.path.dirname(path), root) or platform_setting
        model.functions += heuristic_functions(path, text, root, guessed, folders)
    model.problems = _unique_problems(model.problems)
    return model


def _may_declare_python(template: str) -> bool:
    """False for a CloudFormation template whose functions all have another language: it
    names a runtime (`nodejs20.x`, `java21`) and never Python. Such templates are about half
    the YAML of a big tree (serverless-patterns: 209 of 564), and composing them only found
    problems in code HandlerLens does not check. Templates naming no runtime (one being
    typed, a broken one) are still parsed, so their parse errors are still shown."""
    if template.isascii():
        # The same test on the lowered text: case-sensitive patterns that start with a literal
        # are found by a fast scan (the case-insensitive ones try every position).
        lowered = template.lower()
        return "python" in lowered or _OTHER_RUNTIME_LOWER.search(lowered) is None
    return _PYTHON.search(template) is not None or _OTHER_RUNTIME.search(template) is None


def _read(
    path: str, opened: Mapping[str, str], limit: int = MAX_CONFIG_BYTES, *, python: bool = False
) -> str | None:
    """An open buffer's text, else the file's; None for big, binary or unreadable files."""
    if path in opened:
        text = opened[path]
        return text if len(text) <= limit else None
    try:
        # One byte past the limit tells a file that is too big: no stat of its own (a big
        # tree reads thousands of small files).
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    if len(data) > limit or b"\x00" in data:
        return None
    # Python honours a PEP 263 coding cookie; declaring files are UTF-8.
    encoding = (source_encoding(data) if python else None) or "utf-8-sig"
    return data.decode(encoding, errors="replace")


def _parse_cached(
    kind: ConfigKind, path: str, text: str, platform_setting: str | None
) -> tuple[list[FunctionSpec], list[Problem]]:
    key = (kind, path, platform_setting, text)
    hit = _parsed.get(key)
    # A parse also depends on the files its reader looked at (a code folder built since, a
    # handler file that appeared): reuse it only while they are as they were.
    if hit is None or not probes.unchanged(hit[2]):
        on_disk = parse_cache.active()
        with probes.recording() as seen:
            if on_disk is None:
                specs, problems = parse_as(kind, path, text, platform_setting)
            else:
                entry = parse_cache.key(kind, path, platform_setting or "", text)
                specs, problems = on_disk.memo(
                    entry, lambda: parse_as(kind, path, text, platform_setting)
                )
        hit = (specs, problems, seen)
        _parsed.put(key, hit)
    return list(hit[0]), list(hit[1])


# Terraform text past which a cold `check` reads the Terraform modules in a forked child
# while it reads the other declaring files (serverless-patterns has ~1.1 MB of it).
_FORK_TERRAFORM_CHARS = 200_000
_Found = tuple[list[FunctionSpec], list[Problem]]


class _TerraformStarted:
    """The Terraform modules' functions, as a call that gives them and the .tf files read:
    read in a child on another core when `check` starts with an empty parse cache (or runs
    without one, `--no-cache`) and there is much Terraform to read (`forked`: the child reads
    the files too), else read here from `files` (the walk's reading) when called. The child's
    cache entries come with its result."""

    def __init__(self, paths: list[str], opened: Mapping[str, str], *, checking: bool) -> None:
        self.paths = paths
        self.opened = opened
        self.files: list[tuple[str, str]] = []
        self.cache = parse_cache.active()
        self.child: forked.Forked[tuple[_Found, dict[str, object], list[str]]] | None = None
        if (
            checking
            and (self.cache is None or not self.cache.entries)
            and forked.available()
            and _size(paths) >= _FORK_TERRAFORM_CHARS
        ):
            self.child = forked.Forked(self._in_child)

    @property
    def forked(self) -> bool:
        return self.child is not None

    def _in_child(self) -> tuple[_Found, dict[str, object], list[str]]:
        files = []
        for path in self.paths:
            text = _read(path, self.opened)
            if text is not None and not too_big("terraform", text):
                files.append((path, text))
        files.sort()
        recorder = parse_cache.ParseCache.in_memory()
        with parse_cache.activated(recorder):
            found = _terraform(files)
        return found, recorder.entries, [path for path, _ in files]

    def __call__(self) -> tuple[_Found, list[str]]:
        if self.child is None:
            return _terraform(self.files), [path for path, _ in self.files]
        found, entries, read = self.child.result()
        if self.cache is not None:
            for entry, value in entries.items():
                self.cache.put(entry, value)
        return found, read


def _size(paths: list[str]) -> int:
    total = 0
    for path in paths:
        try:
            total += os.path.getsize(path)
        except OSError:
            continue
    return total


def _prefetch(
    python_files: list[str],
    covered: set[str],
    opened: Mapping[str, str],
    root: str,
    platforms: Mapping[str, str],
    platform_setting: str | None,
    model: ProjectModel,
) -> dict[str, str | None]:
    """The texts of the Python files outside `covered`, each scanned into the parse cache
    when it may hold a handler, and the evidence of the folders above a guessed handler."""
    texts: dict[str, str | None] = {}
    for path in python_files:
        if _under_any(path, covered):
            continue
        text = texts[path] = _read(path, opened, MAX_SOURCE_CHARS, python=True)
        if text is None or not _may_hold_handler(text):
            continue
        guessed = _nearest(platforms, os.path.dirname(path), root) or platform_setting
        if prescan(path, text, root, guessed):
            directory = os.path.dirname(path)
            while is_within(directory, root):
                model.folder_evidence.signs(directory, root)
                if directory == root:
                    break
                directory = os.path.dirname(directory)
    return texts


def _terraform(files: list[tuple[str, str]]) -> tuple[list[FunctionSpec], list[Problem]]:
    if not files:
        return [], []
    # Imported here: the HCL parser costs ~60 ms to import, paid only by Terraform users.
    from handlerlens.project.terraform_config import (
        TerraformFile,
        discover_terraform,
        read_terraform,
    )

    def read(path: str, text: str) -> TerraformFile:
        key = ("terraform", path, None, text)
        hit = _terraform_files.get(key)
        if hit is None:
            try:
                hit = read_terraform(path, text)
            except Exception:  # noqa: BLE001 - one file's reader bug must not end discovery
                hit = TerraformFile(path)
            _terraform_files.put(key, hit)
        return hit

    known: dict[str, list[tuple[str, str]]] = {}
    for path, text in files:
        known.setdefault(os.path.dirname(path), []).append((path, text))

    def load(directory: str) -> list[tuple[str, str]]:
        """A called module's files: from the walk when it saw them, else from disk (what the
        caller's result depends on is recorded: the folder's names, each file's stamp)."""
        names = probes.listdir(directory)
        entries = known.get(directory)
        if entries is None:
            entries = []
            for name in names:
                path = os.path.join(directory, name)
                text = _read(path, {}) if name.endswith(".tf") else None
                if text is not None and len(text) <= MAX_TERRAFORM_CHARS:
                    entries.append((path, text))
        for path, _ in entries:
            probes.stamp(path)
        return entries

    return discover_terraform(files, read, load, parse_cache.active())


def _under_any(path: str, directories: set[str]) -> bool:
    """True when some ancestor of `path` is in `directories` (one set lookup per level)."""
    directory = os.path.dirname(path)
    while directory not in directories:
        parent = os.path.dirname(directory)
        if parent == directory:
            return False
        directory = parent
    return True


def _nearest(platforms: Mapping[str, str], directory: str, root: str) -> str | None:
    """The platform of the closest pyproject.toml at or above `directory`, within `root`."""
    while is_within(directory, root):
        if directory in platforms:
            return platforms[directory]
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return None


def _unique(specs: list[FunctionSpec]) -> list[FunctionSpec]:
    """`specs` without the functions an earlier kind already declares over the same code.

    A project often declares one function twice (pyproject.toml for HandlerLens, Terraform to
    deploy it): the first kind wins. Within one kind, functions sharing a handler are distinct
    functions (an API and a queue consumer on `app.handler`, each with its own runtime and
    trigger), so all of them stay.
    """
    first_kind: dict[tuple[str, str, str], str] = {}
    seen: set[tuple[str | None, str, str]] = set()
    kept = []
    for spec in specs:
        code = (spec.platform, spec.root, spec.entry)
        if first_kind.setdefault(code, spec.declared_by) != spec.declared_by:
            continue
        key = (spec.declared_in, spec.name, spec.entry)
        if key not in seen:
            seen.add(key)
            kept.append(spec)
    return kept


def _unique_problems(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, object, str]] = set()
    kept = []
    for problem in problems:
        key = (problem.path, problem.span, problem.code)
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept
