"""The root logger as each platform's runtime configures it before user code runs."""

from __future__ import annotations

import logging
import sys
import time

_current_request_id = ""


def set_request_id(request_id: str) -> None:
    """Make log records carry this request id until the next call."""
    global _current_request_id
    _current_request_id = request_id


class _RequestIdFilter(logging.Filter):
    def __init__(self, attribute: str) -> None:
        super().__init__()
        self.attribute = attribute

    def filter(self, record: logging.LogRecord) -> bool:
        setattr(record, self.attribute, _current_request_id)
        return True


class _StdoutHandler(logging.Handler):
    # Looks sys.stdout up on every record, so a handler that swaps stdout is still logged.
    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record))
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


class _UtcFormatter(logging.Formatter):
    def converter(self, timestamp: float | None) -> time.struct_time:
        return time.gmtime(timestamp)


def configure(platform: str, level: str | None) -> None:
    """Install the platform's root handler; `basicConfig()` in user code then does nothing."""
    root = logging.getLogger()
    handler = _StdoutHandler()
    if platform == "aws":
        attribute = "aws_request_id"
        fmt = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
    else:
        attribute = "request_id"
        fmt = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(request_id)s\t%(message)s\n"
    handler.setFormatter(_UtcFormatter(fmt, "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter(attribute))
    root.addHandler(handler)
    if level and level.upper() in logging._nameToLevel:
        root.setLevel(level.upper())
