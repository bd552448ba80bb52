"""The root logger's handler and formats, as each platform's runtime installs them.

Imported only once something imports `logging` (see logsetup): a handler that never logs
does not pay for loading the logging package. Logsetup imports this module, never the other
way round: what is known only there (the current request id, the log format) is passed in.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any


class _RequestIdFilter(logging.Filter):
    def __init__(self, attribute: str, request_id: Callable[[], str]) -> None:
        super().__init__()
        self.attribute = attribute
        self.request_id = request_id

    def filter(self, record: logging.LogRecord) -> bool:
        setattr(record, self.attribute, self.request_id())
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


# LogRecord attributes that are not "extras" of a JSON entry (awslambdaric's list).
_RECORD_FIELDS = frozenset(
    {
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
        "aws_request_id",
        "tenant_id",
    }
)


class _AwsJsonFormatter(logging.Formatter):
    """AWS_LAMBDA_LOG_FORMAT=JSON: one JSON object per record, as the Python runtime writes it.

    Levels round down to the standard ones; exceptions add `errorType`, `errorMessage`,
    `stackTrace` and `location`; a record's extra attributes become fields; null fields are
    left out. Values JSON cannot encode fail the record, as in the runtime.
    """

    def format(self, record: logging.LogRecord) -> str:
        record.levelno = min(50, max(0, record.levelno)) // 10 * 10
        record.levelname = logging.getLevelName(record.levelno)
        exc = record.exc_info
        entry: dict[str, Any] = {
            "timestamp": _utc_seconds(record.created),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc and exc[0] else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if exc else None,
        }
        tenant = getattr(record, "tenant_id", None)
        if tenant is not None:
            entry["tenantId"] = tenant
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in entry:
                entry[key] = value
        return _JSON.encode({k: v for k, v in entry.items() if v is not None}) + "\n"


_JSON = json.JSONEncoder(ensure_ascii=False)


def _utc_seconds(timestamp: float) -> str:
    # awslambdaric 4.0.1's JsonFormatter: formatTime with _DATETIME_FORMAT
    # "%Y-%m-%dT%H:%M:%SZ" under gmtime, whole seconds (the text format has milliseconds).
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def install(
    platform: str, level: str | None, json_format: bool, request_id: Callable[[], str]
) -> None:
    """Install the platform's root handler; `basicConfig()` in user code then does nothing.

    `level` is AWS_LAMBDA_LOG_LEVEL (TRACE means DEBUG); `json_format` is AWS's JSON format
    (`logsetup.json_logs`); `request_id` gives the request each record is logged under.
    """
    root = logging.getLogger()
    handler = _StdoutHandler()
    formatter: logging.Formatter
    if json_format:
        attribute = "aws_request_id"
        formatter = _AwsJsonFormatter()
    elif platform == "aws":
        attribute = "aws_request_id"
        fmt = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
        formatter = _UtcFormatter(fmt, "%Y-%m-%dT%H:%M:%S")
    else:
        attribute = "request_id"
        fmt = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(request_id)s\t%(message)s\n"
        formatter = _UtcFormatter(fmt, "%Y-%m-%dT%H:%M:%S")
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter(attribute, request_id))
    root.addHandler(handler)
    wanted = (level or "").upper()
    wanted = "DEBUG" if wanted == "TRACE" and platform == "aws" else wanted
    if wanted and wanted in logging._nameToLevel:
        root.setLevel(wanted)
