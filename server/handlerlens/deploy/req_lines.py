"""Lines of a function's requirements.txt that make the deploy's install fail: pip rejects a
line it cannot read as a requirement ("Invalid requirement") and stops at an `-r`/`-c` file it
cannot open ("Could not open requirements file"); Yandex's build and `sam build` run pip on
the file, so the deploy fails with it (`requirements-invalid`, error, on the line).

Only what pip itself refuses is said: options, URLs, paths, archives and lines with an
`${VARIABLE}` (pip expands them) are left alone, as is anything past a `\\` continuation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache

from packaging.requirements import InvalidRequirement, Requirement

from handlerlens.core.problems import Problem, Severity, Span

CODE = "requirements-invalid"
_MAX_FILES = 50  # includes followed, at most (as manifest.py reads them)
_COMMENT = re.compile(r"(^|\s)#.*$")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+)(\S.*)$")


def _pip_stops(path: str, span: Span, what: str, pip_says: str, fix: str, where: str) -> Problem:
    """A requirements line pip stops at: installing the function's packages fails, and so
    does the deploy."""
    return Problem(
        path,
        span,
        Severity.ERROR,
        CODE,
        f'{what} with "{pip_says}", so installing the function\'s packages fails, and the deploy '
        f"with it.{fix}{where}",
    )


def _unnamed(value: str) -> bool:
    """A URL, a path or an archive: pip installs it without a name we could check."""
    return (
        "://" in value.split("@", 1)[0]
        or value.startswith((".", "/", "~", "file:"))
        or value.endswith((".whl", ".tar.gz", ".zip", ".tar.bz2"))
        or "${" in value
    )


@lru_cache(maxsize=4096)
def _invalid(requirement: str) -> str | None:
    """Why pip rejects `requirement`, None when it reads it (cached: every re-check of every
    function with this manifest asks again)."""
    try:
        Requirement(requirement)
    except InvalidRequirement as exc:
        return str(exc).splitlines()[0] if str(exc) else "not a requirement"
    return None


def rejected(
    path: str,
    text: str,
    where: str = "",
    read: Callable[[str], str | None] | None = None,
    seen: set[str] | None = None,
) -> tuple[list[Problem], list[str]]:
    """The problems of `path` (a requirements.txt whose text is `text`) and of the files it
    includes (`-r`, `-c`: pip reads both; their text from `read`, a loop followed once), and
    the included files, found or not (a change to one changes the verdict)."""
    seen = {os.path.realpath(path)} if seen is None else seen
    watched: list[str] = []
    name = os.path.basename(path)
    folder = os.path.dirname(path)
    out: list[Problem] = []
    continued = False
    for number, raw in enumerate(text.splitlines()):
        was_continued = continued
        line = _COMMENT.sub("", raw)
        continued = line.endswith("\\")
        if was_continued or continued:
            continue  # a line joined with another: judged by pip as a whole, not here
        value = line.strip()
        if not value:
            continue
        start = raw.index(value)
        span = Span.of(number, start, number, start + len(value))
        include = _INCLUDE.match(value)
        if include is not None:
            target = include.group(2).strip()
            if "${" in target or "://" in target:
                continue
            full = os.path.join(folder, os.path.expanduser(target))
            watched.append(full)
            real = os.path.realpath(full)
            if os.path.isfile(full):
                if read is not None and real not in seen and len(seen) < _MAX_FILES:
                    seen.add(real)
                    body = read(full)
                    if body is not None:
                        more, files = rejected(full, body, where, read, seen)
                        out += more
                        watched += files
            else:
                pip_says = (
                    "ERROR: Could not open requirements file: [Errno 2] No such file or "
                    f"directory: '{target}'"
                )
                what = (
                    f"{name} line {number + 1} includes {target}, which does not exist here: "
                    "pip stops"
                )
                out.append(_pip_stops(path, span, what, pip_says, "", where))
            continue
        if value.startswith("-"):
            continue  # -e, -i, --hash, --find-links…: pip's options
        requirement = re.split(r"\s+--?[a-z]", value, maxsplit=1)[0].strip()
        if _unnamed(requirement):
            continue
        reason = _invalid(requirement)
        if reason is not None:
            what = f"pip cannot read {name} line {number + 1} as a requirement ({reason}): it stops"
            pip_says = f"ERROR: Invalid requirement: {requirement!r}"
            fix = " Write it as name[extras]==version, or comment it out."
            out.append(_pip_stops(path, span, what, pip_says, fix, where))
    return out, watched
