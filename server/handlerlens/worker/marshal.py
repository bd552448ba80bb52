"""Turning a handler's return value into bytes, by each platform's rules."""

from __future__ import annotations

import json
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class MarshalFailure(Exception):
    """The return value cannot be serialised."""


def _default(value: Any) -> Any:
    # A Decimal can only exist once its module is loaded: no need to load it to check.
    # (A module of the function's called `decimal` has no Decimal: `()` matches nothing.)
    decimal_type: Any = getattr(sys.modules.get("decimal"), "Decimal", ())
    if isinstance(value, decimal_type):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json.dumps with options builds an encoder per call: these are built once.
_AWS_ASCII = json.JSONEncoder(allow_nan=True, ensure_ascii=True, default=_default)
_AWS_UNICODE = json.JSONEncoder(allow_nan=True, ensure_ascii=False, default=_default)
_YANDEX = json.JSONEncoder(ensure_ascii=False, default=_default)


def marshal_aws(result: Any, ensure_ascii: bool) -> tuple[str, bytes]:
    """awslambdaric's marshaller: bytes pass raw, anything else is JSON (NaN allowed)."""
    if isinstance(result, (bytes, bytearray)):
        return "bytes", bytes(result)
    try:
        text = (_AWS_ASCII if ensure_ascii else _AWS_UNICODE).encode(result)
    except (TypeError, ValueError, RecursionError) as exc:
        raise MarshalFailure(f"Unable to marshal response: {exc}") from None
    return "json", text.encode("utf-8")


def marshal_yandex(result: Any) -> tuple[str, bytes]:
    """A `str` stays text (raw integration writes it as is); anything else must be JSON."""
    if isinstance(result, str):
        return "str", result.encode("utf-8", "surrogatepass")
    try:
        text = _YANDEX.encode(result)
    except (TypeError, ValueError, RecursionError) as exc:
        raise MarshalFailure(str(exc)) from None
    return "json", text.encode("utf-8", "surrogatepass")


def describe(result: Any, limit: int = 4096) -> str:
    """A short printable form of a value that could not be serialised."""
    try:
        text = repr(result)
    except Exception as exc:  # a broken __repr__ must not take the worker down
        text = f"<{type(result).__name__} (repr failed: {exc})>"
    return text if len(text) <= limit else text[:limit] + "…"
