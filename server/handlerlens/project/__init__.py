"""The project model: which functions a workspace declares, where, and for which platform."""

from __future__ import annotations

from handlerlens.project.config_files import is_config_file, parse_config_file
from handlerlens.project.discovery import discover
from handlerlens.project.heuristic import heuristic_functions
from handlerlens.project.model import FunctionSpec, ProjectModel

__all__ = [
    "FunctionSpec",
    "ProjectModel",
    "discover",
    "heuristic_functions",
    "is_config_file",
    "parse_config_file",
]
