"""Watching code roots: which changes trigger a reload, and how bursts are coalesced."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

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
)
# A save and a format-on-save arrive within tens of milliseconds: wait for 20 ms of quiet
# (at most 300 ms) before reloading, so one save costs one reload without delaying it.
STEP_MS = 20
DEBOUNCE_MS = 300


async def watch(
    roots: list[str],
    on_change: Callable[[set[str]], Awaitable[None]],
    stop: asyncio.Event,
) -> None:
    """Call `on_change(paths)` for each coalesced burst of relevant changes until `stop`."""
    from watchfiles import DefaultFilter, awatch

    watch_filter = DefaultFilter(ignore_dirs=IGNORED_DIRS, ignore_entity_patterns=IGNORED_PATTERNS)
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
