"""Where analysis reads files from: open editor buffers first, then disk; parses are cached."""

from __future__ import annotations

import os
from collections.abc import Mapping

from handlerlens.core.python_module import ModuleInfo, parse_module
from handlerlens.core.text import read_text


class Sources:
    """Text of files by absolute path, with unsaved buffers (`overlays`) taking precedence.

    Parses are cached by path and compared by text, so re-validating after a change in another
    file costs a string comparison, not a parse.
    """

    def __init__(self, overlays: Mapping[str, str] | None = None) -> None:
        self.overlays: dict[str, str] = dict(overlays or {})
        self._parsed: dict[str, tuple[str, ModuleInfo]] = {}
        # The last parse without a syntax error, per path: lenses survive typing.
        self._last_good: dict[str, ModuleInfo] = {}

    def text(self, path: str) -> str | None:
        """Current text of `path` (buffer or disk), None if unreadable, binary or too big."""
        if path in self.overlays:
            return self.overlays[path]
        return read_text(path)

    def exists(self, path: str) -> bool:
        """Whether `path` is a file, in a buffer or on disk."""
        return path in self.overlays or os.path.isfile(path)

    def listdir(self, directory: str) -> list[str]:
        """Names in `directory` (files on disk; unsaved new buffers are not listed)."""
        try:
            return os.listdir(directory)
        except OSError:
            return []

    def module(self, path: str) -> ModuleInfo | None:
        """Parsed top level of the Python file at `path` (cached), None if unreadable."""
        text = self.text(path)
        if text is None:
            self._parsed.pop(path, None)
            return None
        hit = self._parsed.get(path)
        if hit is not None and hit[0] == text:
            return hit[1]
        info = parse_module(text)
        self._parsed[path] = (text, info)
        if info.syntax_error is None:
            self._last_good[path] = info
        return info

    def last_good_module(self, path: str) -> ModuleInfo | None:
        """The most recent parse of `path` that had no syntax error."""
        self.module(path)
        return self._last_good.get(path)

    def set_overlay(self, path: str, text: str | None) -> None:
        """Replace (or, with None, drop) the unsaved buffer for `path`."""
        if text is None:
            self.overlays.pop(path, None)
        else:
            self.overlays[path] = text

    def parsed_paths(self) -> list[str]:
        """The Python files parsed so far (from disk or a buffer)."""
        return list(self._parsed)

    def forget(self, path: str) -> None:
        """Drop cached parses of `path` (it changed on disk)."""
        self._parsed.pop(path, None)
