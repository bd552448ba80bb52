"""Declaring files parsed once: a parse is kept in memory by (kind, path, setting, text)
while the files its reader looked at are as they were (probes), and on disk for `check`
(parse_cache); Terraform modules are read with the files of the modules they call."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Generic, TypeVar

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem
from handlerlens.project import parse_cache, probes
from handlerlens.project.config_files import MAX_TERRAFORM_CHARS, parse_as
from handlerlens.project.discovery_reads import read_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from handlerlens.project.terraform_config import TerraformFile
    from handlerlens.project.walk import ConfigKind

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


def parse_cached(
    kind: ConfigKind, path: str, text: str, platform_setting: str | None
) -> tuple[list[FunctionSpec], list[Problem]]:
    """The functions and problems of one declaring file, parsed once while it is unchanged."""
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


def read_terraform_modules(
    files: list[tuple[str, str]],
) -> tuple[list[FunctionSpec], list[Problem]]:
    """The functions and problems of the Terraform modules in `files` (path, text)."""
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
                text = read_text(path, {}) if name.endswith(".tf") else None
                if text is not None and len(text) <= MAX_TERRAFORM_CHARS:
                    entries.append((path, text))
        for path, _ in entries:
            probes.stamp(path)
        return entries

    return discover_terraform(files, read, load, parse_cache.active())
