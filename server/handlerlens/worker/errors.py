"""Error payloads and error log lines, as each platform's runtime writes them.

AWS: awslambdaric's 4-key JSON, bootstrap frames stripped, logged on stdout as `[ERROR] …`
lines joined by `\\r` with NO-BREAK SPACE indentation (with AWS_LAMBDA_LOG_FORMAT=JSON, one JSON
object with `timestamp` and `log_level`). Yandex: `{errorMessage, errorType,
stackTrace}` (no `requestId`), runtime frames kept; the traceback goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time

from . import logsetup, stdlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))
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


def _user_frames(tb: TracebackType | None, keep_runtime_frame: bool) -> list[str]:
    # Loaded only when something failed: spares every cold start its import.
    traceback = stdlib.load("traceback")
    frames = traceback.extract_tb(tb)
    first_user = 0
    for index, frame in enumerate(frames):
        if not frame.filename.startswith(_HERE):
            first_user = index
            break
    else:
        first_user = len(frames)
    # Yandex keeps its runtime's calling frame at the top of the trace; AWS drops bootstrap.
    start = max(0, first_user - 1) if keep_runtime_frame else first_user
    lines: list[str] = traceback.format_list(frames[start:])
    return lines


def from_exception(
    platform: str, exc: BaseException, request_id: str | None, message: str | None = None
) -> dict[str, Any]:
    """Error JSON for an exception raised by user code."""
    trace = _user_frames(exc.__traceback__, keep_runtime_frame=platform == "yandex")
    return make_error(
        platform, str(exc) if message is None else message, type(exc).__name__, trace, request_id
    )


def log_error(platform: str, error: dict[str, Any], exc: BaseException | None) -> None:
    """Write an unhandled error to the function's log the way the platform's runtime does."""
    if logsetup.json_logs(platform, os.environ.get("AWS_LAMBDA_LOG_FORMAT")):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        line = json.dumps({"timestamp": stamp, "log_level": "ERROR", **error}, ensure_ascii=False)
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
        traceback = stdlib.load("traceback")
        _write(sys.stderr, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    else:
        _write(sys.stderr, "{}: {}\n".format(error.get("errorType"), error.get("errorMessage")))


def _write(stream: Any, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass
