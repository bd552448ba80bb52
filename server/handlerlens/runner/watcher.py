"""Watching code roots: which changes trigger a reload, and how bursts are coalesced."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchfiles import Change

log = logging.getLogger("handlerlens.runner")

IGNORED_DIRS = (
    "__pycache__",
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    "venv",
    ".venv",
    "env",
    ".idea",
    ".vscode",
    "node_modules",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".handlerlens",
)
# Editors' swap, backup and atomic-save temporaries (vim, emacs, JetBrains, VS Code).
IGNORED_PATTERNS = (
    r"\.py[cod]$",
    r"\.sw.$",
    r"~$",
    r"^\.#",
    r"^#.*#$",
    r"^4913$",
    r"\.tmp$",
    r"\.___jb_...___$",
    r"^\.DS_Store$",
    r"^flycheck_",
    # Log files are never code, and a function's own FileHandler would otherwise reload it
    # after every invocation (on the platforms the code root is read-only anyway).
    r"\.log$",
)
# A save and a format-on-save arrive within tens of milliseconds: wait for 20 ms of quiet
# (at most 300 ms) before reloading, so one save costs one reload without delaying it.
STEP_MS = 20
DEBOUNCE_MS = 300


def own_output_files() -> set[tuple[int, int]]:
    """(device, inode) of the regular files this process's stdout and stderr go to.

    `handlerlens serve main.handler > serve.log` in the code root would otherwise reload on
    every line the runner writes, and every reload writes a line.
    """
    found: set[tuple[int, int]] = set()
    for fd in (1, 2):
        try:
            info = os.fstat(fd)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            found.add((info.st_dev, info.st_ino))
    return found


def _is_one_of(path: str, files: set[tuple[int, int]]) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) in files


async def watch(
    roots: list[str],
    on_change: Callable[[set[str]], Awaitable[None]],
    stop: asyncio.Event,
) -> None:
    """Call `on_change(paths)` for each coalesced burst of relevant changes until `stop`."""
    from watchfiles import DefaultFilter, awatch

    own = own_output_files()

    class Filter(DefaultFilter):
        def __call__(self, change: Change, path: str) -> bool:
            return super().__call__(change, path) and not (own and _is_one_of(path, own))

    watch_filter = Filter(ignore_dirs=IGNORED_DIRS, ignore_entity_patterns=IGNORED_PATTERNS)
    async for changes in awatch(
        *roots,
        watch_filter=watch_filter,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        rust_timeout=1000,
        yield_on_timeout=False,
    ):
        await on_change({path for _, path in changes})
