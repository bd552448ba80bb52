"""Which edits move a breakpoint's line, as the editor would move it (pure, no debugger)."""

from __future__ import annotations

import pytest

from handlerlens.worker.debugging import moved

OLD = ["import os", "", "def handler(event, context):", "    name = 1", "    return name"]


@pytest.mark.parametrize(
    ("new", "lines", "expected"),
    [
        (OLD, [4], False),
        (["# new"] + OLD, [4], True),  # inserted above
        (OLD[:1] + OLD[2:], [4], True),  # deleted above
        (OLD + ["# below"], [4], False),  # added below
        (OLD[:3] + ["    name = 2"] + OLD[4:], [4], False),  # the line itself edited in place
        (OLD[:3] + OLD[4:], [4], True),  # the line itself deleted
        (["# new"] + OLD, [], False),  # no breakpoints
        (["# new"] + OLD, [1], True),  # the first line pushed down
        (OLD[:4] + ["    x = 0"] + OLD[4:], [3, 4], False),  # inserted below both
        (OLD[:4] + ["    x = 0"] + OLD[4:], [5], True),  # inserted above the last
    ],
)
def test_moved(new: list[str], lines: list[int], expected: bool) -> None:
    assert moved(OLD, new, lines) is expected


def test_a_worker_waits_only_for_lines_the_editor_changed_since_the_last_init() -> None:
    from handlerlens.runner.debugger import changed_lines

    # The first init: the worker got the editor's breakpoints when it attached.
    assert changed_lines({"/a.py": [4]}, None) == {}
    # Nothing changed: nothing to wait for, whatever line each process's pydevd holds.
    assert changed_lines({"/a.py": [4], "/b.py": [2]}, {"/a.py": [4], "/b.py": [2]}) == {}
    # Lines inserted above a.py's breakpoint: the editor re-sends it to every session.
    assert changed_lines({"/a.py": [5], "/b.py": [2]}, {"/a.py": [4], "/b.py": [2]}) == {
        "/a.py": [5]
    }
    # b.py's breakpoints removed, c.py's added.
    assert changed_lines({"/a.py": [4], "/c.py": [1]}, {"/a.py": [4], "/b.py": [2]}) == {
        "/c.py": [1],
        "/b.py": [],
    }
