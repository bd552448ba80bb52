"""`[tool.handlerlens.test]` in a project's pyproject.toml: the settings every test run of
its saved events shares (`ignore` paths, `strict`), checked before anything runs."""

from __future__ import annotations

import os
from typing import Any

from handlerlens.replay.events import ReplayError, shown
from handlerlens.replay.expect import ExpectationError, validate_ignore

TEST_SETTINGS = frozenset({"ignore", "strict"})


def test_settings(root: str) -> tuple[dict[str, Any] | None, str]:
    """`[tool.handlerlens.test]` of `<root>/pyproject.toml` (None without one) and the file's
    name for messages; ReplayError for a table HandlerLens cannot use."""
    path = os.path.join(root, "pyproject.toml")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError:
        return None, ""
    if b"handlerlens" not in raw:
        return None, ""
    from handlerlens.project.toml_compat import loads

    name = shown(path)
    try:
        data = loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReplayError(f"{name}: cannot read [tool.handlerlens.test]: {exc}") from None
    table = data.get("tool", {}).get("handlerlens", {})
    table = table.get("test") if isinstance(table, dict) else None
    if table is None:
        return None, name
    if not isinstance(table, dict):
        raise ReplayError(f"{name}: [tool.handlerlens] test must be a table")
    for key in table:
        if key not in TEST_SETTINGS:
            raise ReplayError(
                f"{name}: unknown key '{key}' in [tool.handlerlens.test] (known: "
                f"{', '.join(sorted(TEST_SETTINGS))})"
            )
    if "ignore" in table:
        try:
            validate_ignore(table["ignore"], f"{name} [tool.handlerlens.test]")
        except ExpectationError as exc:
            raise ReplayError(str(exc)) from None
    if "strict" in table and not isinstance(table["strict"], bool):
        raise ReplayError(f"{name}: [tool.handlerlens.test] strict must be true or false")
    return table, name
