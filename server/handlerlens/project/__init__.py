"""The project model: which functions a workspace declares, where, and for which platform.

The parsers (YAML, TOML, HCL) load on first use (PEP 562), so importing `project.model`
for its dataclasses costs nothing: the language server answers `initialize` before any
parser is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlerlens.project.model import FunctionSpec, ProjectModel

if TYPE_CHECKING:
    from handlerlens.project.config_files import is_config_file, parse_config_file
    from handlerlens.project.discovery import discover
    from handlerlens.project.heuristic import heuristic_functions

_LAZY = {
    "discover": "handlerlens.project.discovery",
    "heuristic_functions": "handlerlens.project.heuristic",
    "is_config_file": "handlerlens.project.config_files",
    "parse_config_file": "handlerlens.project.config_files",
}

__all__ = [
    "FunctionSpec",
    "ProjectModel",
    "discover",
    "heuristic_functions",
    "is_config_file",
    "parse_config_file",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
