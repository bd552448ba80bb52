"""Deployment archives: what a zip a declaration points at holds, read without unpacking it.

SAM (`CodeUri: src/index.zip`) and Terraform (`filename = "x.zip"`) deploy a zip as is; the
handler's module must be one of its members. Only the zip's central directory is read
(`zipfile` seeks to the end of the file and reads the name list there), so this costs one open
and a few kilobytes however large the archive is.
"""

from __future__ import annotations

import zipfile

from handlerlens.project import probes

# Past this many members a zip is a bundled dependency tree, not a handler package; the name
# list is still read (it is cheap), this only guards against pathological central directories.
_MAX_MEMBERS = 200_000


def zip_names(path: str) -> frozenset[str] | None:
    """The member names of the zip at `path` (`pkg/main.py`), or None if absent or unreadable.

    Directory entries keep their trailing `/`; names are as stored, with `/` separators.
    """
    if not probes.isfile(path):
        return None
    probes.stamp(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return None
    if len(infos) > _MAX_MEMBERS:
        return None
    return frozenset(info.filename for info in infos)


def module_in_names(names: frozenset[str] | set[str], module_path: str) -> str | None:
    """The member that provides module `module_path` (`pkg/main`), or None.

    A module is `pkg/main.py` or a package `pkg/main/__init__.py`; compiled-only modules
    (`main.pyc`, extension modules) count too, since Python imports them.
    """
    candidates = (
        f"{module_path}.py",
        f"{module_path}/__init__.py",
        f"{module_path}.pyc",
        f"{module_path}/__init__.pyc",
    )
    for candidate in candidates:
        if candidate in names:
            return candidate
    prefix = f"{module_path}."
    for name in names:
        if name.startswith(prefix) and "/" not in name[len(prefix) :] and name.endswith(".so"):
            return name
    return None


def python_modules(names: frozenset[str] | set[str], limit: int = 10) -> list[str]:
    """Up to `limit` importable top-level module names in an archive's name list, sorted.

    For messages: "the archive holds main, utils".
    """
    found: set[str] = set()
    for name in names:
        if name.endswith("/__init__.py") and name.count("/") == 1:
            found.add(name.split("/", 1)[0])
        elif name.endswith(".py") and "/" not in name:
            found.add(name[: -len(".py")])
    return sorted(found)[:limit]
