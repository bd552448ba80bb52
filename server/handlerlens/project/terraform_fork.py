"""Terraform read beside the other declaring files: in a child on another core when a cold
`check` has much of it to read, else here when its turn comes."""

from __future__ import annotations

import os
from collections.abc import Mapping

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem
from handlerlens.project import forked, parse_cache
from handlerlens.project.config_files import too_big
from handlerlens.project.discovery_reads import read_text
from handlerlens.project.parsed_files import read_terraform_modules

# Terraform text past which a cold `check` reads the Terraform modules in a forked child
# while it reads the other declaring files (serverless-patterns has ~1.1 MB of it).
_FORK_TERRAFORM_CHARS = 200_000
_Found = tuple[list[FunctionSpec], list[Problem]]


class TerraformStarted:
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
            text = read_text(path, self.opened)
            if text is not None and not too_big("terraform", text):
                files.append((path, text))
        files.sort()
        recorder = parse_cache.ParseCache.in_memory()
        with parse_cache.activated(recorder):
            found = read_terraform_modules(files)
        return found, recorder.entries, [path for path, _ in files]

    def __call__(self) -> tuple[_Found, list[str]]:
        if self.child is None:
            return read_terraform_modules(self.files), [path for path, _ in self.files]
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
