"""File-system facts a declaration reader looked at, so a cached parse knows when it is stale.

Discovery caches each declaring file's parse by its text; but some conclusions also depend on
other files (is `CodeUri: build/fn` there yet, is `src/app.js` JavaScript, does `app.py` bind
`app`). Readers ask through these functions; `recording()` collects what they asked, and
`unchanged()` re-asks it: a cached parse is reused only while every answer is the same.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# (question, path, answer): "file" → os.path.isfile, "dir" → os.path.isdir, "exists" →
# os.path.exists, "list" → the sorted names in a folder (None if unreadable), "stamp" → the
# file's (mtime_ns, size) or None.
Probe = tuple[str, str, object]

_recorded: ContextVar[list[Probe] | None] = ContextVar("handlerlens_probes", default=None)


def _ask(question: str, path: str) -> object:
    if question == "file":
        return os.path.isfile(path)
    if question == "dir":
        return os.path.isdir(path)
    if question == "exists":
        return os.path.exists(path)
    if question == "list":
        try:
            return tuple(sorted(os.listdir(path)))
        except (OSError, ValueError):
            return None
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    return (stat.st_mtime_ns, stat.st_size)


def _answer(question: str, path: str) -> object:
    answer = _ask(question, path)
    recorded = _recorded.get()
    if recorded is not None:
        recorded.append((question, path, answer))
    return answer


def isfile(path: str) -> bool:
    """`os.path.isfile`, remembered."""
    return bool(_answer("file", path))


def isdir(path: str) -> bool:
    """`os.path.isdir`, remembered."""
    return bool(_answer("dir", path))


def exists(path: str) -> bool:
    """`os.path.exists`, remembered."""
    return bool(_answer("exists", path))


def listdir(path: str) -> list[str]:
    """The sorted names in a folder ([] if it cannot be read), remembered."""
    names = _answer("list", path)
    return list(names) if isinstance(names, tuple) else []


def stamp(path: str) -> None:
    """Remember a file's modification stamp: its content is about to be read."""
    _answer("stamp", path)


def read_text(path: str) -> str | None:
    """A file's text (None if unreadable), remembered by its modification stamp."""
    _answer("stamp", path)
    from handlerlens.core.text import read_text as read

    return read(path)


@contextmanager
def recording() -> Iterator[list[Probe]]:
    """Collect the probes made inside the block (nested blocks collect their own)."""
    probes: list[Probe] = []
    token = _recorded.set(probes)
    try:
        yield probes
    finally:
        _recorded.reset(token)


def note(probes: list[Probe]) -> None:
    """Add what a nested (or cached) computation looked at to the recording in progress."""
    recorded = _recorded.get()
    if recorded is not None:
        recorded.extend(probes)


def unchanged(probes: list[Probe]) -> bool:
    """Whether every recorded question still gets the same answer."""
    return all(_ask(question, path) == answer for question, path, answer in probes)
