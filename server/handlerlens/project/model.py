"""The project model's data: which functions a workspace declares, and where."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from handlerlens.analysis.problems import Problem, Span

PlatformName = Literal["yandex", "aws"]
DeclaredBy = Literal["pyproject", "sam", "serverless", "terraform", "heuristic"]


@dataclass(frozen=True)
class FunctionSpec:
    """One cloud function as declared (or guessed).

    `root` is the absolute code root (SAM `CodeUri`, Serverless service dir, Terraform
    `source_dir`/archive source, `[tool.handlerlens]` `root`); `entry` the raw handler string
    (`main.handler`). `declared_in`/`entry_span` locate the handler string in the declaring
    file (None for the heuristic), so diagnostics can be shown there at its exact position.
    `root_declared_in`/`root_span` locate the value that set the code root (None when the root
    is implied, e.g. the template's directory). `trigger` is the first declared trigger id
    (`platforms.triggers`), None when nothing declares one; `triggers` lists all of them.
    `custom_event` is True when a trigger delivers the declaration's own payload instead of its
    event (an EventBridge target's `Input`), so no trigger's shape describes the event.
    """

    name: str
    platform: PlatformName
    entry: str
    root: str
    declared_by: DeclaredBy
    declared_in: str | None = None
    entry_span: Span | None = None
    runtime: str | None = None
    runtime_span: Span | None = None
    timeout: float | None = None
    memory: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    trigger: str | None = None
    triggers: tuple[str, ...] = ()
    root_declared_in: str | None = None
    root_span: Span | None = None
    custom_event: bool = False
    archive: str | None = None
    inline_code: str | None = None

    @property
    def code_on_disk(self) -> bool:
        """True when the code is a folder HandlerLens can read and run (not a zip, not inline)."""
        return self.archive is None and self.inline_code is None

    @property
    def event_trigger(self) -> str | None:
        """The trigger whose event shape the handler receives; None when no one shape does."""
        if self.custom_event or len(self.triggers) > 1:
            return None
        return self.trigger


@dataclass
class ProjectModel:
    """Every function found under a workspace root, plus problems in the declaring files."""

    root: str
    functions: list[FunctionSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    config_files: list[str] = field(default_factory=list)
    # Sentences about what discovery did not read (the walk's caps), for logs and `check`.
    notes: list[str] = field(default_factory=list)
    # Folders the quiet heuristic stays out of: every function's code root, and the folder of
    # every declaring file (one that does not parse yet included).
    covered: set[str] = field(default_factory=set)
