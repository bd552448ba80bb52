"""The function's own environment: the distributions installed where the runner will run it,
for `import-not-packaged` (which distribution provides an import name, what a requirement
installs with it, how to spell it in a fix).

The interpreter is the one the runner will choose (interpreter.py `foreseen`, told from files);
its distributions are read from its site-packages folders with `importlib.metadata` pointed at
them (`Distribution.at`: `top_level.txt`, `RECORD`, `METADATA`, an `.egg-info`'s `requires.txt`)
— files only, the interpreter is never run (the language server calls this on edits). Where
the site-packages are: a virtual environment's `lib/python3.X/site-packages` (with the base
interpreter's when its pyvenv.cfg includes the system site packages), an installed
interpreter's own beside it (Debian's `dist-packages` too).

No environment (None) when the runner would run the function on HandlerLens's own interpreter
(isolated to its standard library) or no such folder exists: dists.py then reads HandlerLens's
own metadata, as before, and the messages say so where a verdict rests on it.

Reading is cached per site-packages folder by its modification stamp (installing or removing
a distribution adds or removes its `.dist-info` folder there): in memory, and in `check`'s
parse cache, so a warm `check` reads no metadata at all.
"""

from __future__ import annotations

import os
import re
from typing import Any

from handlerlens.deploy.dists import canonical, required
from handlerlens.deploy.interpreter import foreseen, pyvenv_cfg
from handlerlens.project import parse_cache, probes

_INFO = (".dist-info", ".egg-info")


def _lib_sites(prefix: str, version: tuple[int, int] | None) -> list[str]:
    """`prefix`'s site-packages folders for Python `version` (any 3.X when None)."""
    lib = os.path.join(prefix, "lib")
    if version is not None:
        names = [f"python{version[0]}.{version[1]}"]
    else:
        try:
            names = sorted(n for n in os.listdir(lib) if re.fullmatch(r"python3\.\d+", n))
        except OSError:
            names = []
    out = [os.path.join(prefix, "Lib", "site-packages")]  # Windows
    for name in names:
        out += [os.path.join(prefix, base, name, "site-packages") for base in ("lib", "lib64")]
        out.append(os.path.join(prefix, "local", "lib", name, "dist-packages"))  # Debian
    out.append(os.path.join(prefix, "lib", "python3", "dist-packages"))  # Debian
    return out


def _venv_config(prefix: str) -> dict[str, str] | None:
    text = pyvenv_cfg(prefix)
    if text is None:
        return None
    config = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            config[key.strip().lower()] = value.strip()
    return config


def site_folders(python: str, version: tuple[int, int] | None) -> list[str]:
    """The existing site-packages folders of the interpreter at `python`, in import order."""
    prefix = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    config = _venv_config(prefix)
    if config is not None:
        candidates = _lib_sites(prefix, version)
        home = config.get("home", "")
        if config.get("include-system-site-packages", "").lower() == "true" and home:
            candidates += _lib_sites(os.path.dirname(home.rstrip(os.sep)), version)
    else:
        real = os.path.realpath(python)
        candidates = _lib_sites(os.path.dirname(os.path.dirname(real)), version)
    out: list[str] = []
    seen: set[str] = set()
    for folder in candidates:
        if os.path.isdir(folder) and os.path.realpath(folder) not in seen:
            seen.add(os.path.realpath(folder))
            out.append(folder)
    return out


def _tops_of(dist: Any) -> set[str]:
    """Top-level import names a distribution installs: its top_level.txt, else the files its
    RECORD (an .egg-info's installed-files.txt) lists."""
    listed = dist.read_text("top_level.txt")
    if listed:
        return {n.strip().replace("/", ".").split(".")[0] for n in listed.split()} - {""}
    tops: set[str] = set()
    record = dist.read_text("RECORD")
    rows = [row.split(",")[0] for row in (record or "").splitlines()]
    if record is None:
        installed = dist.read_text("installed-files.txt") or ""
        rows = [row.removeprefix("../") for row in installed.splitlines()]
    for path in rows:
        head = path.split("/")[0]
        if not head or head.startswith(("..", "__editable__", "__pycache__")):
            continue
        if head.endswith((".dist-info", ".egg-info", ".pth", ".data")):
            continue
        if "/" not in path and not head.endswith((".py", ".so", ".pyd")):
            continue  # a file of another kind at the top (a script, a licence)
        tops.add(head.split(".")[0])
    return tops


def _read_folder(folder: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """canonical name → (its metadata folder, the top-level names it installs)."""
    import importlib.metadata as md

    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    try:
        entries = sorted(os.listdir(folder))
    except OSError:
        return found
    for entry in entries:
        if not entry.endswith(_INFO):
            continue
        name = canonical(entry.rsplit(".", 1)[0].split("-")[0])
        path = os.path.join(folder, entry)
        if name in found or not os.path.isdir(path):
            continue
        try:
            tops = _tops_of(md.Distribution.at(path))
        except (OSError, ValueError, UnicodeDecodeError):
            tops = set()
        found[name] = (path, tuple(sorted(tops)))
    return found


def _read_requires(info: str) -> tuple[str, tuple[str, ...]]:
    """(the name as its metadata spells it, what it requires without an extra, canonical)."""
    import importlib.metadata as md

    try:
        dist = md.Distribution.at(info)
        name = dist.metadata["Name"] or ""
        requires = dist.requires or []
    except (OSError, ValueError, TypeError, UnicodeDecodeError):  # a damaged one: no claim
        return "", ()
    return name, tuple(sorted(required(requires)))


# In memory: per folder, (stamp, what was read); per metadata folder, its name and requires.
_FOLDERS: dict[str, tuple[object, dict[str, tuple[str, tuple[str, ...]]]]] = {}
_REQUIRES: dict[tuple[str, object], tuple[str, tuple[str, ...]]] = {}


def _stamp(folder: str) -> object:
    try:
        stat = os.stat(folder)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def _cached(what: str, folder: str, stamp: object, compute: Any) -> Any:
    """`compute()`, from `check`'s parse cache while `folder` keeps its stamp."""
    store = parse_cache.active()
    if store is None:
        return compute()

    def stamped() -> Any:
        probes.stamp(folder)
        return compute()

    return store.memo(parse_cache.key("site", what, folder), stamped)


def _memo_folders(
    memo: dict[tuple[str, object], Any], python: str, version: tuple[int, int] | None
) -> list[str]:
    key = ("site", (python, version))
    if key not in memo:
        memo[key] = site_folders(python, version)
    return memo[key]  # type: ignore[no-any-return]


class Environment:
    """The distributions installed in the site-packages folders of one interpreter."""

    __slots__ = ("python", "label", "folders", "dists", "_tops", "_stamps")

    def __init__(self, python: str, folders: list[str], label: str | None = None) -> None:
        self.python = python
        self.label = label or python  # as messages name it
        self.folders = folders
        self._stamps = {folder: _stamp(folder) for folder in folders}
        self.dists: dict[str, str] = {}  # canonical name → its metadata folder
        self._tops: dict[str, set[str]] = {}
        for folder in folders:
            stamp = self._stamps[folder]
            hit = _FOLDERS.get(folder)
            if hit is None or hit[0] != stamp:
                read = _cached("dists", folder, stamp, lambda f=folder: _read_folder(f))
                hit = _FOLDERS[folder] = (stamp, read)
            for name, (info, tops) in hit[1].items():
                if name in self.dists:
                    continue  # an earlier folder's wins, as on sys.path
                self.dists[name] = info
                for top in tops:
                    self._tops.setdefault(top, set()).add(name)

    def fresh(self) -> bool:
        """Whether no folder changed since it was read."""
        return all(_stamp(f) == s for f, s in self._stamps.items())

    def provides(self, top: str) -> frozenset[str]:
        """The distributions installed here that install the import `top` (canonical)."""
        return frozenset(self._tops.get(top, ()))

    def _metadata(self, dist: str) -> tuple[str, tuple[str, ...]] | None:
        info = self.dists.get(dist)
        if info is None:
            return None
        folder = os.path.dirname(info)
        key = (info, self._stamps.get(folder))
        hit = _REQUIRES.get(key)
        if hit is None:
            hit = _REQUIRES[key] = _cached(
                f"requires {info}", folder, key[1], lambda: _read_requires(info)
            )
        return hit

    def requires(self, dist: str) -> frozenset[str] | None:
        """What `dist` requires (no extras), None when it is not installed here."""
        found = self._metadata(dist)
        return None if found is None else frozenset(found[1])

    def spelled(self, dist: str) -> str:
        """`dist`'s name as its metadata spells it."""
        found = self._metadata(dist)
        return (found[0] if found else "") or dist


class Environments:
    """The function's interpreter and environment per code root and runtime, kept until the
    next full check (a venv may come or go; a distribution installed in a kept one is seen by
    its folder's stamp)."""

    def __init__(self) -> None:
        self.project_root: str | None = None  # where the runner looks for a venv up to
        self._foreseen: dict[tuple[str, str | None], tuple[str, str, tuple[int, int] | None]] = {}
        self._environments: dict[tuple[str, str | None], Environment | None] = {}
        self._by_python: dict[tuple[str, tuple[str, ...]], Environment] = {}
        self._looked: dict[tuple[str, object], Any] = {}  # what `foreseen` looked at

    def clear(self) -> None:
        self._looked.clear()
        self._foreseen.clear()
        self._environments.clear()
        self._by_python.clear()

    def interpreter(
        self, code_root: str, runtime: str | None
    ) -> tuple[str, str, tuple[int, int] | None]:
        """(path, source, version) of the interpreter the runner will choose (`foreseen`)."""
        key = (code_root, runtime)
        chosen = self._foreseen.get(key)
        if chosen is None:
            import sys

            try:
                top = self.project_root or code_root
                chosen = foreseen(top, code_root, runtime, self._looked)
            except OSError:
                chosen = (sys.executable, "handlerlens", (sys.version_info[0], sys.version_info[1]))
            self._foreseen[key] = chosen
        return chosen

    def environment(self, code_root: str, runtime: str | None) -> Environment | None:
        """The function's environment; None: none found (HandlerLens's own is read instead)."""
        key = (code_root, runtime)
        if key in self._environments:
            env = self._environments[key]
            if env is None or env.fresh():
                return env
        python, source, version = self.interpreter(code_root, runtime)
        env = None
        if source != "handlerlens":
            folders = _memo_folders(self._looked, python, version)
            shared = (python, tuple(folders))  # many code roots, one venv
            env = self._by_python.get(shared)
            if folders and (env is None or not env.fresh()):
                top = self.project_root or code_root
                inside = python.startswith(top.rstrip(os.sep) + os.sep)
                label = os.path.relpath(python, top) if inside else python
                env = self._by_python[shared] = Environment(python, folders, label)
        self._environments[key] = env
        return env
