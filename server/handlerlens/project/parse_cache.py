"""What discovery read from a workspace's declaring files, kept on disk between `check` runs.

Parsing the declaring files is most of what `handlerlens check` costs on a big tree (Terraform
through python-hcl2's pure-Python Lark parser, YAML, the heuristic's Python parses), and most
of those files have not changed since the last run. This keeps each result by a hash of what
it was computed from (the file's path and text, or a Terraform module's files), with the
file-system facts the reader looked at (`probes`): a result is reused only when its key matches
and every recorded fact is still true.

One file per workspace root, `$XDG_CACHE_HOME/handlerlens/check/<hash of the root>.pickle`
(`~/.cache` without XDG_CACHE_HOME), holding a fingerprint of the code that made it (the
HandlerLens sources, Python, python-hcl2, Lark and PyYAML, each by version or by its files'
sizes and times) and the entries. A file that cannot be read, does not unpickle, or carries
another fingerprint is ignored and rewritten. Writes go to a temporary file that is renamed
over the old one, so concurrent runs never see half a file (the last one to finish wins), and
only entries this run used are written, so the file does not grow past the workspace; the
file of a workspace not checked for 30 days is removed by the next run that writes one.

Only `check` turns it on (`using`); the language server keeps its own in-memory caches.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from handlerlens import __version__
from handlerlens.project import probes

# Bump when the shape of a cached value changes without a change of the sources' files.
_FORMAT = 1
_T = TypeVar("_T")


def cache_dir() -> str:
    """`$XDG_CACHE_HOME/handlerlens/check`, or `~/.cache/handlerlens/check`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "handlerlens", "check")


def _fingerprint() -> str:
    """What makes a cached result valid: the code that computed it and its parsers."""
    from importlib.util import find_spec

    parts = [f"format {_FORMAT}", f"handlerlens {__version__}", sys.version]
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for directory, _, names in sorted(os.walk(package)):
        for name in sorted(names):
            if name.endswith((".py", ".lark", ".json")):
                path = os.path.join(directory, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                parts.append(f"{os.path.relpath(path, package)} {stat.st_mtime_ns} {stat.st_size}")
    for library in ("hcl2", "lark", "yaml"):
        spec = find_spec(library)
        origin = spec.origin if spec is not None else None
        try:
            stamp = os.stat(origin).st_mtime_ns if origin else 0
        except OSError:
            stamp = 0
        parts.append(f"{library} {origin} {stamp}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def key(*parts: str) -> str:
    """A cache key from the texts a result was computed from."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


class ParseCache:
    """Entries by key, loaded from and saved to one file."""

    def __init__(self, path: str, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.entries: dict[str, Any] = {}
        self.used: set[str] = set()
        self.dirty = False
        self.hits = 0  # results reused (`memo`)
        self.misses = 0  # results computed: not stored, or a fact they depend on changed
        if path:
            self._load()

    @classmethod
    def in_memory(cls) -> ParseCache:
        """An empty cache that is never loaded or saved: it collects entries (a child's)."""
        return cls("", "")

    def _load(self) -> None:
        import pickle

        try:
            with open(self.path, "rb") as handle:
                stored = pickle.load(handle)
        except FileNotFoundError:
            return
        except Exception:  # noqa: BLE001 - a corrupt or foreign file: ignored, rewritten
            self.dirty = True
            return
        if (
            isinstance(stored, tuple)
            and len(stored) == 2
            and stored[0] == self.fingerprint
            and isinstance(stored[1], dict)
        ):
            self.entries = stored[1]
        else:
            self.dirty = True

    def get(self, entry: str) -> Any:
        """The value stored under `entry`, or None."""
        value = self.entries.get(entry)
        if value is not None:
            self.used.add(entry)
        return value

    def put(self, entry: str, value: object) -> None:
        self.entries[entry] = value
        self.used.add(entry)
        self.dirty = True

    def save(self) -> None:
        """Write the entries this run used, atomically; a failure to write is not an error
        (a read-only home, a full disk): the next run parses again."""
        import pickle
        import tempfile

        if not self.path or (not self.dirty and self.used == set(self.entries)):
            return
        kept = {k: v for k, v in self.entries.items() if k in self.used}
        directory = os.path.dirname(self.path)
        try:
            os.makedirs(directory, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    pickle.dump((self.fingerprint, kept), handle, pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.path)
            except BaseException:
                try:
                    os.unlink(temporary)
                except OSError:
                    pass
                raise
        except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
            return
        _prune(directory)

    def memo(self, entry: str, compute: Callable[[], _T], *, facts: bool = True) -> _T:
        """`compute()`'s result, from the cache when stored under `entry` and, with `facts`,
        when every file-system fact it looked at is unchanged."""
        hit = self.get(entry)
        if isinstance(hit, tuple) and len(hit) == 2 and isinstance(hit[1], list):
            value, seen = hit
            try:
                fresh = not facts or probes.unchanged(seen)
            except Exception:  # noqa: BLE001 - a damaged entry: computed again, rewritten
                fresh = False
            if fresh:
                self.hits += 1
                probes.note(seen)
                return value  # type: ignore[no-any-return]
        self.misses += 1
        if facts:
            with probes.recording() as seen:
                value = compute()
            probes.note(seen)
        else:
            value, seen = compute(), []
        self.put(entry, (value, seen))
        return value


# A workspace not checked for this long loses its cache file (as do temporary files left by
# a run that was killed while writing).
_MAX_AGE = 30 * 24 * 3600
_MAX_TEMPORARY_AGE = 3600


def _prune(directory: str) -> None:
    import time

    now = time.time()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        temporary = entry.name.startswith(".tmp-")
        if not temporary and not entry.name.endswith(".pickle"):
            continue
        try:
            age = now - entry.stat().st_mtime
            if age > (_MAX_TEMPORARY_AGE if temporary else _MAX_AGE):
                os.unlink(entry.path)
        except OSError:
            continue


_active: ParseCache | None = None


def active() -> ParseCache | None:
    """The cache of the running `check`, or None (the language server, tests, --no-cache)."""
    return _active


@contextmanager
def activated(cache: ParseCache) -> Iterator[ParseCache]:
    """`cache` is the active one for the block."""
    global _active
    previous, _active = _active, cache
    try:
        yield cache
    finally:
        _active = previous


@contextmanager
def using(root: str, directory: str | None = None) -> Iterator[ParseCache]:
    """Turn the cache of workspace `root` on for the block; it is saved at the end."""
    root = os.path.normpath(os.path.abspath(root))
    name = hashlib.sha256(root.encode("utf-8", "surrogatepass")).hexdigest()[:32] + ".pickle"
    cache = ParseCache(os.path.join(directory or cache_dir(), name), _fingerprint())
    with activated(cache):
        yield cache
    cache.save()
