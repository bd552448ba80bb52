"""`[tool.handlerlens]` in pyproject.toml: functions declared for HandlerLens itself.

Schema (documented in README): the table's `platform`, `root`, `runtime`, `timeout`,
`memory`, `trigger` and `env` are defaults; `entry` (with an optional `name`) declares one
function; `[[tool.handlerlens.functions]]` declares any number, each with the same keys.
"""

from __future__ import annotations

import difflib
import os
import re
from typing import Any

from handlerlens.core.model import FunctionSpec, PlatformName
from handlerlens.core.problems import Problem, Span
from handlerlens.core.text import LineIndex
from handlerlens.platforms.triggers import triggers_for
from handlerlens.project.code_roots import resolve
from handlerlens.project.config_problems import invalid, parse_error
from handlerlens.project.toml_compat import TOMLDecodeError, loads
from handlerlens.project.toml_locator import TomlLocations, TomlPath, locate

FILE_TYPE = "pyproject.toml"
TABLE: TomlPath = ("tool", "handlerlens")
PLATFORMS: tuple[PlatformName, ...] = ("yandex", "aws")

FUNCTION_KEYS = frozenset(
    {"name", "entry", "root", "platform", "runtime", "timeout", "memory", "trigger", "env"}
)
# Other `[tool.handlerlens]` keys are settings read elsewhere (mirroring `handlerlens.*` in
# VS Code); list them here so they are not reported as unknown.
SETTINGS_KEYS: frozenset[str] = frozenset(
    {"test", "python"}
)  # [tool.handlerlens.test]: `handlerlens test`; python: the runner's interpreter
TABLE_KEYS = FUNCTION_KEYS | {"functions"} | SETTINGS_KEYS

_ERROR_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def parse_pyproject(
    path: str, text: str, platform_setting: str | None = None
) -> tuple[list[FunctionSpec], list[Problem]]:
    """The functions `[tool.handlerlens]` declares, and problems in that table."""
    if "handlerlens" not in text:
        return [], []  # someone else's pyproject: not ours to judge, not even its syntax
    lines = LineIndex(text)
    try:
        data = loads(text)
    except TOMLDecodeError as exc:
        return [], [_decode_problem(path, lines, str(exc))]
    except (ValueError, RecursionError) as exc:
        return [], [parse_error(path, lines.span(0, 0), FILE_TYPE, str(exc))]
    reader = _Reader(path, lines, locate(text), platform_setting)
    tool = data.get("tool", {})
    specs = reader.read(tool.get("handlerlens") if isinstance(tool, dict) else None)
    return specs, list(dict.fromkeys(reader.problems))


def pyproject_platform(text: str) -> PlatformName | None:
    """The `[tool.handlerlens] platform` a pyproject.toml sets, if valid."""
    if "handlerlens" not in text:
        return None
    try:
        value = loads(text).get("tool", {}).get("handlerlens", {}).get("platform")
    except (TOMLDecodeError, ValueError, RecursionError, AttributeError):
        return None
    return value if value in PLATFORMS else None


def _decode_problem(path: str, lines: LineIndex, message: str) -> Problem:
    found = _ERROR_AT.search(message)
    if found:
        line, column = int(found.group(1)) - 1, int(found.group(2)) - 1
        offset = lines.offset_of(line, column)
        message = message[: found.start()]
    else:
        offset = len(lines.text)
    return parse_error(path, lines.span(offset, offset), FILE_TYPE, message)


class _Reader:
    def __init__(
        self, path: str, lines: LineIndex, where: TomlLocations, platform_setting: str | None
    ) -> None:
        self.path = path
        self.lines = lines
        self.where = where
        self.base = os.path.dirname(path)
        fallback = platform_setting if platform_setting in PLATFORMS else "yandex"
        self.default_platform: PlatformName = "aws" if fallback == "aws" else "yandex"
        self.problems: list[Problem] = []

    def span(self, path: TomlPath, part: str = "inner") -> Span:
        """The span of a key ("key"), a whole value ("value") or a string's text ("inner")."""
        entry = self.where.entries.get(path)
        if entry is not None:
            if part == "key":
                return self.lines.span(entry.key_start, entry.key_end)
            if part == "value":
                return self.lines.span(entry.value_start, entry.value_end)
            return self.lines.span(entry.inner_start, entry.inner_end)
        for size in range(len(path), 0, -1):
            header = self.where.tables.get(path[:size])
            if header is not None:
                return self.lines.span(*header)
        return self.lines.span(0, 0)

    def warn(self, path: TomlPath, message: str, part: str = "value") -> None:
        self.problems.append(invalid(self.path, self.span(path, part), message))

    def read(self, table: Any) -> list[FunctionSpec]:
        if table is None:
            return []
        if not isinstance(table, dict):
            self.warn(TABLE, "[tool.handlerlens] must be a table; HandlerLens ignores it.")
            return []
        for key in table:
            if key not in TABLE_KEYS:
                self.warn(TABLE + (key,), _unknown_key(key, TABLE_KEYS), part="key")
        defaults = self.fields(TABLE, table)
        platform = defaults.get("platform", self.default_platform)
        specs = []
        if "entry" in table:
            spec = self.function(TABLE, table, defaults, platform)
            if spec is not None:
                specs.append(spec)
        elif "name" in table:
            self.warn(
                TABLE + ("name",),
                "`name` without `entry` declares no function; add "
                '`entry = "main.handler"` or remove `name`.',
                part="key",
            )
        functions = table.get("functions", [])
        if not isinstance(functions, list):
            self.warn(
                TABLE + ("functions",),
                "`functions` must be an array of tables "
                "([[tool.handlerlens.functions]]); HandlerLens ignores it.",
            )
            return specs
        for index, item in enumerate(functions):
            where = TABLE + ("functions", index)
            if not isinstance(item, dict):
                self.warn(where, "Each entry of `functions` must be a table with at least `entry`.")
                continue
            for key in item:
                if key not in FUNCTION_KEYS:
                    self.warn(where + (key,), _unknown_key(key, FUNCTION_KEYS), part="key")
            spec = self.function(where, item, defaults, platform)
            if spec is not None:
                specs.append(spec)
        return specs

    def fields(self, where: TomlPath, table: dict[str, Any]) -> dict[str, Any]:
        """The well-typed function keys of one table; wrong types become problems."""
        found: dict[str, Any] = {}
        for key in ("name", "entry", "root", "runtime"):
            if key in table:
                if isinstance(table[key], str) and table[key].strip():
                    found[key] = table[key]
                else:
                    self.warn(where + (key,), f"`{key}` must be a non-empty string.")
        if "platform" in table:
            if table["platform"] in PLATFORMS:
                found["platform"] = table["platform"]
            else:
                self.warn(
                    where + ("platform",),
                    f'Unknown platform {table["platform"]!r}: use "yandex" or "aws".',
                )
        if "timeout" in table:
            value = table["timeout"]
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                found["timeout"] = float(value)
            else:
                self.warn(where + ("timeout",), "`timeout` must be a positive number of seconds.")
        if "memory" in table:
            value = table["memory"]
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                found["memory"] = value
            else:
                self.warn(where + ("memory",), "`memory` must be a positive integer (megabytes).")
        if "trigger" in table:
            if isinstance(table["trigger"], str):
                found["trigger"] = table["trigger"]
            else:
                self.warn(where + ("trigger",), "`trigger` must be a string trigger id.")
        if "env" in table:
            found["env"] = self.env(where + ("env",), table["env"])
        return found

    def env(self, where: TomlPath, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            self.warn(where, '`env` must be a table of strings, e.g. env = { STAGE = "dev" }.')
            return {}
        env = {}
        for key, item in value.items():
            if isinstance(item, bool):
                env[key] = "true" if item else "false"
            elif isinstance(item, (str, int, float)):
                env[key] = str(item)
            else:
                self.warn(where + (key,), f"Environment variable {key} must be a string.")
        return env

    def function(
        self, where: TomlPath, table: dict[str, Any], defaults: dict[str, Any], platform: str
    ) -> FunctionSpec | None:
        own = self.fields(where, table) if where != TABLE else defaults
        if "entry" not in own:
            if "entry" not in table:
                self.warn(where, 'This function has no `entry`; add `entry = "main.handler"`.')
            return None
        # `name` and `entry` at the top declare the shorthand function; they are no defaults.
        inherited = {k: v for k, v in defaults.items() if k not in ("name", "entry")}
        merged = {**inherited, **own}
        merged["env"] = {**defaults.get("env", {}), **own.get("env", {})}
        chosen: PlatformName = "aws" if merged.get("platform", platform) == "aws" else "yandex"
        trigger = merged.get("trigger")
        if trigger is not None and trigger not in triggers_for(chosen):
            trigger_at = where if "trigger" in own else TABLE
            valid = ", ".join(triggers_for(chosen))
            self.warn(
                trigger_at + ("trigger",),
                f"Unknown {chosen} trigger {trigger!r}; valid triggers: {valid}.",
            )
            trigger = None
        root_at = where if "root" in own else TABLE
        root, root_span = self.base, None
        if "root" in merged:
            resolved = resolve(self.base, merged["root"])
            if resolved is not None:
                root, root_span = resolved, self.span(root_at + ("root",))
        runtime_at = (where if "runtime" in own else TABLE) + ("runtime",)
        return FunctionSpec(
            name=merged.get("name", merged["entry"]),
            platform=chosen,
            entry=merged["entry"],
            root=root,
            declared_by="pyproject",
            declared_in=self.path,
            entry_span=self.span(where + ("entry",)),
            runtime=merged.get("runtime"),
            runtime_span=self.span(runtime_at) if "runtime" in merged else None,
            timeout=merged.get("timeout"),
            memory=merged.get("memory"),
            env=merged["env"],
            trigger=trigger,
            triggers=(trigger,) if trigger else (),
            root_declared_in=self.path if root_span is not None else None,
            root_span=root_span,
        )


def _unknown_key(key: str, known: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    listed = ", ".join(sorted(known))
    return f"Unknown key {key!r}; HandlerLens ignores it. {hint}Known keys: {listed}."
