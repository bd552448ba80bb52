"""Error payloads and error log lines, as each platform's runtime writes them.

AWS: awslambdaric's 4-key JSON, bootstrap frames stripped, logged on stdout as `[ERROR] …`
lines joined by `\\r` with NO-BREAK SPACE indentation (with AWS_LAMBDA_LOG_FORMAT=JSON, one JSON
object with `timestamp` and `log_level`), frames without `^^^^` lines (awslambdaric 4.0.1).
Yandex: `{errorMessage, errorType, stackTrace}` (no `requestId`), the runtime's calling frame
kept; the traceback goes to stderr.
A Yandex load error shows the user's frames only, in the JSON and in the log, and a syntax
error its file, line, source line and caret, as Python prints them.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time

from . import logsetup, stdlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from traceback import FrameSummary, TracebackException
    from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
# `importlib.import_module` and the import system's frozen modules: the way to the user's
# module, not part of it (Python's own `import` statement drops these frames too).
_IMPORTLIB_INIT = importlib.import_module.__code__.co_filename
_FROZEN_IMPORTLIB = "<frozen importlib._bootstrap"
_NBSP = "\u00a0"


class InitFault(Exception):
    """An init error with the platform's errorType, message and stack trace."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def make_error(
    platform: str, message: str, error_type: str, trace: list[str], request_id: str | None
) -> dict[str, Any]:
    """The platform's error JSON; AWS adds `requestId` (`""` for init errors)."""
    error: dict[str, Any] = {"errorMessage": message, "errorType": error_type}
    if platform == "aws":
        error["requestId"] = request_id or ""
    error["stackTrace"] = trace
    return error


def _ours(filename: str) -> bool:
    return filename.startswith(_HERE)


def _import_machinery(filename: str) -> bool:
    return filename.startswith(_FROZEN_IMPORTLIB) or filename == _IMPORTLIB_INIT


def user_frames(frames: list[FrameSummary], platform: str, loading: bool) -> list[FrameSummary]:
    """The frames of a traceback that the platform's error shows; the one rule for both.

    A call's error: from the first frame that is not the runtime's (HandlerLens's worker) on;
    Yandex keeps the runtime's calling frame above it, as its runtime.py `handle_event` frame
    is kept, and AWS drops all of bootstrap's (awslambdaric). A load error (importing the
    entry point's module) on Yandex: the user's frames alone, as Python shows an `import` that
    failed, without HandlerLens's or the import system's frames wherever they are (the worker's
    loader sits between a module and one it imports). On AWS awslambdaric keeps what follows
    bootstrap there too (`importlib/__init__.py` and the frozen import frames), so we do.
    """
    if loading and platform == "yandex":
        return [f for f in frames if not _ours(f.filename) and not _import_machinery(f.filename)]
    first_user = next((i for i, f in enumerate(frames) if not _ours(f.filename)), len(frames))
    start = max(0, first_user - 1) if platform == "yandex" else first_user
    return frames[start:]


def _traceback(exc: BaseException, platform: str, loading: bool) -> TracebackException:
    """Python's traceback of `exc` (and of its causes and contexts), trimmed by user_frames."""
    # Loaded only when something failed: spares every cold start its import.
    traceback = stdlib.load("traceback")
    top: TracebackException = traceback.TracebackException.from_exception(exc)
    todo, seen = [top], set()
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        kept = user_frames(list(item.stack), platform, loading)
        item.stack = traceback.StackSummary.from_list(kept)
        todo += [e for e in (item.__cause__, item.__context__) if e is not None]
    return top


def _syntax_location(te: TracebackException) -> str:
    """A SyntaxError's `  File "…", line N` / source line / caret block, as Python prints it."""
    lines = []
    for line in te.format_exception_only():
        if not line.startswith(" "):
            break  # `SyntaxError: …`, then any notes
        lines.append(line)
    return "".join(lines)


def from_exception(
    platform: str,
    exc: BaseException,
    request_id: str | None,
    message: str | None = None,
    loading: bool = False,
) -> dict[str, Any]:
    """Error JSON for an exception raised by user code (`loading`: while importing it)."""
    te = _traceback(exc, platform, loading)
    if platform == "aws":
        # awslambdaric formats (filename, lineno, name, line) tuples (traceback.format_list):
        # no column positions, so no `^^^^` lines under a frame on 3.11+ either.
        traceback = stdlib.load("traceback")
        frames = [(f.filename, f.lineno, f.name, f.line) for f in te.stack]
        trace: list[str] = traceback.format_list(frames)
    else:
        trace = list(te.stack.format())
    if platform == "yandex" and isinstance(exc, SyntaxError):
        location = _syntax_location(te)
        if location:
            trace.append(location)
    return make_error(
        platform, str(exc) if message is None else message, type(exc).__name__, trace, request_id
    )


def log_error(
    platform: str, error: dict[str, Any], exc: BaseException | None, loading: bool = False
) -> None:
    """Write an unhandled error to the function's log the way the platform's runtime does
    (Yandex: Python's traceback, its frames those of the error JSON)."""
    if logsetup.json_logs(platform, os.environ.get("AWS_LAMBDA_LOG_FORMAT")):
        # awslambdaric 4.0.1 bootstrap.log_error: a whole-second UTC `timestamp` ending in Z
        # (_DATETIME_FORMAT), `log_level`, then the error, through its to_json (ASCII only
        # before python3.12).
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        record = {"timestamp": stamp, "log_level": "ERROR", **error}
        line = json.dumps(record, ensure_ascii=not marshal_utf8())
        _write(sys.stdout, line + "\n")
    elif platform == "aws":
        head = "[ERROR]"
        if error.get("errorType"):
            head += " " + error["errorType"]
        if error.get("errorMessage"):
            head += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
        lines = [head, "Traceback (most recent call last):"]
        for element in error.get("stackTrace") or []:
            for line in str(element).splitlines():
                stripped = line.lstrip(" ")
                lines.append(_NBSP * (len(line) - len(stripped)) + stripped)
        _write(sys.stdout, "\r".join(lines) + "\n")
    elif exc is not None:
        _write(sys.stderr, "".join(_traceback(exc, platform, loading).format()))
    else:
        _write(sys.stderr, "{}: {}\n".format(error.get("errorType"), error.get("errorMessage")))


def marshal_utf8() -> bool:
    """Whether awslambdaric's JSON keeps non-ASCII text as is: from python3.12 on (its
    lambda_runtime_marshaller.Encoder), judged by the AWS_EXECUTION_ENV the function has."""
    execution_env = os.environ.get("AWS_EXECUTION_ENV", "")
    return any(f"python3.{n}" in execution_env for n in range(12, 16))


def _write(stream: Any, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass
