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
