"""`yc serverless function version create …` in shell scripts, Makefiles and CI files.

The command line is the declaration: `--entrypoint`, `--runtime`, `--source-path`, `--memory`,
`--execution-timeout`, `--environment` and `--function-name` (or `--function-id`). A command
may span lines joined by a trailing backslash. A `$VAR`/`${VAR}` (a Makefile's `$(VAR)`) that
the same file sets to a literal (`RUNTIME=python312`, `export ENTRY="main.handler"`, a
Makefile's `RUNTIME := python312`, a CI file's `env:` entry `RUNTIME: python312`) is read as
that literal, located at the assignment. Values the shell or the CI computes otherwise
(`${{ … }}`, `$(…)`, a variable set elsewhere) cannot be known here: the entry point then is an
info, the code root too.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

from handlerlens.core.model import FunctionSpec, PackedCode
from handlerlens.core.problems import Problem, Span
from handlerlens.core.text import LineIndex
from handlerlens.project import probes
from handlerlens.project.archives import zip_names
from handlerlens.project.config_problems import unresolved
from handlerlens.project.values import is_python_runtime, to_megabytes, to_seconds

COMMAND = re.compile(r"\byc[ \t]+serverless[ \t]+function[ \t]+version[ \t]+create\b")
# One shell word: quoted, or bare up to a blank; a backslash-newline is a blank too.
_WORD = re.compile(
    r"\"((?:[^\"\\]|\\.)*)\"|'([^']*)'"
    r"|((?:\$\{\{[^}\n]*\}\}|\$\([^)\n]*\)|[^\s\\'\"]|\\[^\n])+)"
)
_OPTION_VALUES = frozenset(
    {
        "--function-name",
        "--function-id",
        "--runtime",
        "--entrypoint",
        "--memory",
        "--execution-timeout",
        "--source-path",
        "--environment",
        "--package-bucket-name",
        "--package-object-name",
        "--service-account-id",
        "--description",
    }
)
_COMPUTED = ("$", "`", "{{", "<%")
_UNITS = {"": 1, "b": 1 / (1 << 20), "k": 1 / 1024, "kb": 1 / 1024, "m": 1, "mb": 1}
_UNITS.update({"g": 1024, "gb": 1024})


# `NAME=value` in a shell script (also after export/readonly/local/declare): a literal value
# only, quoted or bare, up to a blank, `;`, `&`, `|` or a comment.
_SHELL_ASSIGNMENT = re.compile(
    r"^[ \t]*(?:(?:export|readonly|local|declare)[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)="
    r"""(?:"([^"$`\\\n]*)"|'([^'\n]*)'|([^\s;&|$`'"\\#]+))(?=[ \t]*(?:$|[;&|#]))""",
    re.MULTILINE,
)
# `NAME = value`, `NAME := value`, `NAME ?= value` in a Makefile.
_MAKE_ASSIGNMENT = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?:::=|:=|\?=|=)[ \t]*([^\s$#][^$#\n]*?)[ \t]*$",
    re.MULTILINE,
)
# `NAME: value` in a CI file's `env:` mapping (any indented key that looks like a variable).
_YAML_ASSIGNMENT = re.compile(
    r"""^[ \t]+([A-Z_][A-Z0-9_]*):[ \t]*(?:"([^"$\n]*)"|'([^'$\n]*)'|([^\s"'$#{}\[\]][^$#\n]*?))"""
    r"[ \t]*$",
    re.MULTILINE,
)
_SHELL_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_MAKE_REF = re.compile(r"\$(?:\(([A-Za-z_][A-Za-z0-9_]*)\)|\{([A-Za-z_][A-Za-z0-9_]*)\})")

# A literal a variable is set to: value, start, end.
_Assigned = tuple[str, int, int]


def parse_yc_cli(path: str, text: str) -> tuple[list[FunctionSpec], list[Problem]]:
    """Every `yc serverless function version create` with a Python runtime in `text`."""
    lines = LineIndex(text)
    specs: list[FunctionSpec] = []
    problems: list[Problem] = []
    variables = _Variables(path, text)
    for match in COMMAND.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if "#" in text[line_start : match.start()]:
            continue  # a comment (shell, Makefile, YAML), or an echo of one
        options = {
            name: variables.resolve(word, match.start())
            for name, word in _options(text, match.end()).items()
        }
        found = _function(path, text, lines, options, problems)
        if found is not None:
            specs.append(found)
    return specs, problems


def _options(text: str, start: int) -> dict[str, tuple[str, int, int]]:
    """`--name value` / `--name=value` pairs up to the end of the (continued) command."""
    end = start
    while True:
        newline = text.find("\n", end)
        if newline < 0:
            end = len(text)
            break
        if text[end:newline].rstrip("\r").endswith("\\"):
            end = newline + 1
            continue
        end = newline
        break
    words = []
    for found in _WORD.finditer(text, start, end):
        for group in (1, 2, 3):
            if found.group(group) is not None:
                words.append((found.group(group), found.start(group), found.end(group)))
                break
    options: dict[str, tuple[str, int, int]] = {}
    i = 0
    while i < len(words):
        word, _, _ = words[i]
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if eq:
                at = words[i][1] + len(name) + 1
                options.setdefault(name, (value, at, words[i][2]))
            elif name in _OPTION_VALUES and i + 1 < len(words):
                options.setdefault(name, words[i + 1])
                i += 1
        elif word in (";", "&&", "||", "|"):
            break
        i += 1
    return options


class _Variables:
    """The literal values the file's own assignments give its variables."""

    def __init__(self, path: str, text: str) -> None:
        name = os.path.basename(path).lower()
        self.make = name in ("makefile", "gnumakefile") or name.endswith(".mk")
        self.yaml = name.endswith((".yml", ".yaml"))
        self.assigned: dict[str, list[tuple[int, _Assigned]]] = {}
        if "$" not in text:
            return
        patterns = (
            [_MAKE_ASSIGNMENT]
            if self.make
            # A CI file: its `env:` entries, and the shell lines of its `run:` scripts.
            else [_YAML_ASSIGNMENT, _SHELL_ASSIGNMENT]
            if self.yaml
            else [_SHELL_ASSIGNMENT]
        )
        found_all = [m for pattern in patterns for m in pattern.finditer(text)]
        for found in sorted(found_all, key=lambda m: m.start()):
            group = next(g for g in range(2, found.re.groups + 1) if found.group(g) is not None)
            value = (found.group(group), found.start(group), found.end(group))
            self.assigned.setdefault(found.group(1), []).append((found.start(), value))

    def lookup(self, name: str, at: int) -> _Assigned | None:
        """A Makefile's last assignment; a script's last one before `at`; a CI file's nearest
        one before `at`, else its first (a step's `env:` may follow its `run:`)."""
        found = self.assigned.get(name)
        if not found:
            return None
        if self.make:
            return found[-1][1]
        before = [value for start, value in found if start < at]
        if before:
            return before[-1]
        return found[0][1] if self.yaml else None

    def resolve(self, word: tuple[str, int, int], at: int) -> tuple[str, int, int]:
        """`word` with its variable references replaced by their literal values; a word that is
        one reference is located at the literal."""
        value, start, end = word
        if "$" not in value or not self.assigned:
            return word
        pattern = _MAKE_REF if self.make else _SHELL_REF
        whole = pattern.fullmatch(value)
        if whole is not None:
            literal = self.lookup(whole.group(1) or whole.group(2), at)
            return literal if literal is not None else word

        def replace_ref(ref: re.Match[str]) -> str:
            literal = self.lookup(ref.group(1) or ref.group(2), at)
            return literal[0] if literal is not None else ref.group(0)

        return pattern.sub(replace_ref, value), start, end


def _computed(value: str) -> bool:
    return any(mark in value for mark in _COMPUTED)


def _function(
    path: str,
    text: str,
    lines: LineIndex,
    options: dict[str, tuple[str, int, int]],
    problems: list[Problem],
) -> FunctionSpec | None:
    entry = options.get("--entrypoint")
    runtime = options.get("--runtime")
    if entry is None or (runtime is not None and not is_python_runtime(runtime[0])):
        return None
    entry_span = lines.span(entry[1], entry[2])
    if _computed(entry[0]):
        problems.append(
            unresolved(
                path,
                entry_span,
                f"The entry point of this `yc serverless function version create` is computed "
                f"by the shell or the CI ({entry[0]}), so HandlerLens cannot check or run it; "
                "write it literally to have it checked.",
            )
        )
        return None
    name = options.get("--function-name") or options.get("--function-id")
    base = os.path.dirname(path)
    spec = FunctionSpec(
        name=name[0] if name is not None and not _computed(name[0]) else entry[0],
        platform="yandex",
        entry=entry[0],
        root=base,
        declared_by="yc-cli",
        declared_in=path,
        entry_span=entry_span,
        # `${MODULE}.handler`: shown where it is written, but no fix may rewrite it.
        entry_editable=text[entry[1] : entry[2]] == entry[0],
        runtime=runtime[0] if runtime is not None and not _computed(runtime[0]) else None,
        runtime_span=lines.span(runtime[1], runtime[2]) if runtime is not None else None,
        timeout=to_seconds(_value(options, "--execution-timeout")),
        memory=_megabytes(_value(options, "--memory")),
        env=_environment(_value(options, "--environment")),
    )
    if spec.runtime is None:
        spec = replace(spec, runtime_span=None)
    source = options.get("--source-path")
    if source is None:
        if "--package-bucket-name" in options:
            value, start, end = options["--package-bucket-name"]
            problems.append(
                unresolved(
                    path,
                    lines.span(start, end),
                    "The code of this function version is deployed from a bucket, not from this "
                    "workspace, so HandlerLens cannot check or run it.",
                )
            )
            return None
        return spec
    value, start, end = source
    span = lines.span(start, end)
    if _computed(value):
        problems.append(_unknown(path, span, value, "is computed by the shell or the CI"))
        return replace(spec, packed=PackedCode(value))
    found = _locate(path, value)
    if found is None:
        problems.append(_unknown(path, span, value, "is not found from this file's folder"))
        return replace(spec, packed=PackedCode(value))
    if probes.isdir(found):
        return replace(spec, root=found)
    names = zip_names(found) if found.lower().endswith(".zip") else None
    if names is None:
        problems.append(_unknown(path, span, value, "is not a folder or a zip HandlerLens reads"))
    return replace(spec, packed=PackedCode(value, names))


def _unknown(path: str, span: Span, value: str, why: str) -> Problem:
    return unresolved(
        path,
        span,
        f"The --source-path {value} {why}, so HandlerLens does not check the entry point "
        "(the command's working directory is not known here).",
    )


def _locate(path: str, value: str) -> str | None:
    """The source path from the folder of the file, or from a folder above it (a CI file or a
    script run from the repository root)."""
    directory = os.path.dirname(path)
    for _ in range(4):
        candidate = os.path.normpath(os.path.join(directory, os.path.expanduser(value)))
        if probes.exists(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return None


def _value(options: dict[str, tuple[str, int, int]], name: str) -> str | None:
    found = options.get(name)
    return found[0] if found is not None and not _computed(found[0]) else None


def _megabytes(value: str | None) -> int | None:
    """`128m`, `128MB`, `1g`, `134217728` (bytes when no unit and large) → megabytes."""
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", value)
    if match is None or match.group(2).lower() not in _UNITS:
        return None
    number, unit = int(match.group(1)), match.group(2).lower()
    if not unit and number >= 1 << 20:
        return to_megabytes(number >> 20)
    return to_megabytes(int(number * _UNITS[unit]))


def _environment(value: str | None) -> dict[str, str]:
    env = {}
    for pair in (value or "").split(","):
        key, eq, item = pair.partition("=")
        if eq and key.strip():
            env[key.strip()] = item
    return env
