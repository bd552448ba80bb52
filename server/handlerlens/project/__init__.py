"""The project model: which functions a workspace declares, where, and for which platform.

Everything loads on first use (PEP 562): the parsers (YAML, TOML, HCL) only when a declaring
file is read, so the language server answers `initialize` before any parser is imported,
and `handlerlens invoke` can use `project.walk` without the model's classes.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: `invoke` cannot afford loading typing
if TYPE_CHECKING:
    from typing import Any

    from handlerlens.project.config_files import is_config_file, parse_config_file
    from handlerlens.project.discovery import ProjectModel, discover
    from handlerlens.project.heuristic import heuristic_functions

_LAZY = {
    "ProjectModel": "handlerlens.project.discovery",
    "discover": "handlerlens.project.discovery",
    "heuristic_functions": "handlerlens.project.heuristic",
    "is_config_file": "handlerlens.project.config_files",
    "parse_config_file": "handlerlens.project.config_files",
}

__all__ = [
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
