"""The function model: one cloud function as a declaring file (or the guess) describes it.

Shared by every floor above: the project readers build it, the engine validates it, the
runner and the language server run and show it. `ProjectModel` (a workspace's functions)
is the project floor's: `project.discovery`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from handlerlens.core.problems import Span

PlatformName = Literal["yandex", "aws"]
DeclaredBy = Literal["pyproject", "sam", "serverless", "terraform", "yc-cli", "heuristic"]


@dataclass(frozen=True)
class PackedCode:
    """Code the deploy ships from an archive rather than from the folder `root`.

    `label` names the archive in messages (`build/fn.zip`, `the inline sources of
    data.archive_file.code`); `names` are the file paths the runtime will see (the zip's members,
    the inline sources' `filename`s), or None when they cannot be known here (the archive is built
    later, or its path is computed): the entry point is then not checked, and the declaring
    file's reader says why in an info.
    """

    label: str
    names: frozenset[str] | None = None


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
    event (an EventBridge target's `Input`, an API Gateway mapping template), so no trigger's
    shape describes the event. `platform_known` is False for a guessed function with no
    evidence of its platform (`platform` is then only the default for running it);
    `platform_evidence` says what the platform of a guessed function was read from.
    `packed` is set when the code is an archive (or cannot be located) instead of `root`.
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
    # Where `runtime_span` is, when not in `declared_in` (a Terraform variable's default in
    # variables.tf while the handler is a literal in main.tf).
    runtime_declared_in: str | None = None
    timeout: float | None = None
    memory: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    trigger: str | None = None
    triggers: tuple[str, ...] = ()
    root_declared_in: str | None = None
    root_span: Span | None = None
    custom_event: bool = False
    platform_known: bool = True
    platform_evidence: tuple[str, ...] = ()
    packed: PackedCode | None = None
    archive: str | None = None
    inline_code: str | None = None
    # False when the handler string is a template one instance of a `for_each` fills in
    # (`"${each.key}.handler"`): diagnostics point at it, but no fix may rewrite it.
    entry_editable: bool = True

    @property
    def code_on_disk(self) -> bool:
        """True when the code is a folder HandlerLens can read and run (not a zip, not inline,
        not an archive Terraform builds or uploads)."""
        return self.archive is None and self.inline_code is None and self.packed is None

    @property
    def event_trigger(self) -> str | None:
        """The trigger whose event shape the handler receives; None when no one shape does."""
        if self.custom_event or len(self.triggers) > 1:
            return None
        return self.trigger
