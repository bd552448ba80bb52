"""The pytest plugin (entry point `pytest11`): saved events as test items.

Off unless `--handlerlens` is given or the root's `pyproject.toml` has a
`[tool.handlerlens.test]` table; then every saved event under the root (pytest's rootdir, or
`--handlerlens-root`) is an item, `<event file>::<function>::<event>`, run as `handlerlens
test` runs it (one warm instance per function, through a `handlerlens serve` child process)
and failing with the same diff. `-k`, `-x` and the rest select and stop as usual.

Importing this module costs pytest nothing more than its options: the rest is loaded only
when the plugin is on.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

_STATE = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("handlerlens", "HandlerLens saved events")
    group.addoption(
        "--handlerlens",
        action="store_true",
        help="run the saved events (.handlerlens/events/<function>/*.json) with their "
        "expected responses as tests (also on when pyproject.toml has [tool.handlerlens.test])",
    )
    group.addoption(
        "--handlerlens-root",
        metavar="DIR",
        help="the project whose saved events to run (default: pytest's rootdir)",
    )
    group.addoption(
        "--handlerlens-cold",
        action="store_true",
        help="a fresh function instance per saved event (default: one per function, warm)",
    )


class _State:
    """The session's replay: the project, its options, and one event loop with its runners."""

    def __init__(self, root: str, settings: dict[str, Any], settings_file: str, cold: bool):
        import asyncio

        from handlerlens.replay.verdicts import GlobalIgnores, Options

        self.root = root
        self.options = Options(
            cold=cold,
            strict=bool(settings.get("strict")),
            ignore=list(settings.get("ignore", [])),
            ignore_source=settings_file,
        )
        self.loop = asyncio.new_event_loop()
        self.runners: dict[int, Any] = {}
        self.warnings: list[str] = []
        self.global_ignores = GlobalIgnores(self.options.ignore, settings_file)

    def run(self, event: Any) -> Any:
        from handlerlens.replay.run import run_one

        started = time.monotonic()
        outcome = self.loop.run_until_complete(
            run_one(event, self.options, self.runners, self.warnings, self.global_ignores)
        )
        outcome.seconds = time.monotonic() - started
        return outcome

    def close(self) -> None:
        import asyncio

        async def stop_all() -> None:
            await asyncio.gather(*(r.stop() for r in self.runners.values()))

        try:
            self.loop.run_until_complete(stop_all())
        finally:
            self.loop.close()


def pytest_configure(config: pytest.Config) -> None:
    option_root = config.getoption("--handlerlens-root")
    root = os.path.abspath(option_root or str(config.rootpath))
    enabled = bool(config.getoption("--handlerlens") or option_root)
    from handlerlens.replay.events import ReplayError

    if not enabled:
        if not os.path.isfile(os.path.join(root, "pyproject.toml")):
            return
        with open(os.path.join(root, "pyproject.toml"), "rb") as handle:
            if b"handlerlens" not in handle.read():
                return  # someone else's pyproject: not a reason to load anything more
    from handlerlens.replay.settings import test_settings

    try:
        settings, settings_file = test_settings(root)
    except ReplayError as exc:
        raise pytest.UsageError(f"handlerlens: {exc}") from None
    if settings is None and not enabled:
        return
    config.stash[_STATE] = _State(
        root, settings or {}, settings_file, bool(config.getoption("--handlerlens-cold"))
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


class SavedEventFile(pytest.File):
    """One saved event file; its single item is the event."""

    event: Any = None

    def collect(self) -> list[pytest.Item]:
        return [SavedEventItem.from_parent(self, name=self.event.test_id, event=self.event)]


class SavedEventItem(pytest.Item):
    def __init__(self, *, event: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.event = event
        # No fixtures; plugins that wrap every test call (pytest-lsp's) look for this.
        self.funcargs: dict[str, Any] = {}

    def runtest(self) -> None:
        from handlerlens.replay.verdicts import NO_EXPECTATION

        state: _State = self.config.stash[_STATE]
        outcome = state.run(self.event)
        if outcome.status == NO_EXPECTATION and not state.options.strict:
            pytest.skip(outcome.message)
        if outcome.failed(state.options.strict):
            raise SavedEventFailure(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, SavedEventFailure):
            from handlerlens.replay.reports import text_report

            return text_report([excinfo.value.outcome], True)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, self.event.test_id


class SavedEventFailure(Exception):
    def __init__(self, outcome: Any) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Add the saved events to the items before -k, -m and the rest select among them."""
    state: _State | None = config.stash.get(_STATE, None)
    if state is None:
        return
    from handlerlens.replay.events import ReplayError, read_project, saved_events

    try:
        project = read_project(state.root, None)
        events, warnings = saved_events(project)
    except ReplayError as exc:
        raise pytest.UsageError(f"handlerlens: {exc}") from None
    state.warnings += warnings
    for event in events:
        file = SavedEventFile.from_parent(session, path=_path(event.path))
        file.event = event
        # Through the session, so that the terminal counts them as collected like any test.
        items.extend(session.genitems(file))


def _path(path: str) -> Any:
    from pathlib import Path

    return Path(path)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state: _State | None = config.stash.get(_STATE, None)
    if state is None:
        return
    lines = list(dict.fromkeys(state.warnings)) + state.global_ignores.warnings()
    if lines:
        terminalreporter.section("handlerlens warnings")
        for line in lines:
            terminalreporter.write_line(line)
