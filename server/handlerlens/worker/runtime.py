"""One function's runtime: init (import the handler) and invoke (call it with an event)."""

from __future__ import annotations

import json
import os
import sys
import time

from . import deployed, errors, isolation, loader, logsetup, marshal, protocol, readonly, stdlib
from .contexts import LambdaContext, YandexContext

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

# awslambdaric writes this before an init error (shortened: the full text is an advisory).
_AWS_INIT_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code."
)


def max_rss_kb() -> int:
    """Peak resident memory of this process, in KiB (0 where unknown)."""
    if resource is None:
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


_UNSET: Any = object()


class Runtime:
    """Holds the handler between invocations, so globals persist on a warm instance."""

    def __init__(self) -> None:
        self.platform = "yandex"
        self.static: dict[str, Any] = {}
        self.ensure_ascii = True
        self.handler: Callable[..., Any] | None = None
        self.init_error: dict[str, Any] | None = None
        self._loop: Any = None

    def init(self, meta: dict[str, Any]) -> dict[str, Any]:
        """Set the environment, configure logging, import the handler; report how it went."""
        started = time.perf_counter()
        stdlib.code_root = os.path.realpath(os.getcwd())
        self.platform = meta.get("platform", "yandex")
        self.static = meta.get("context") or {}
        # The function's environment is what the runner computed, nothing of the worker's
        # own start-up (PLATFORMS.md §12.1: the platform's variables plus the declared ones).
        isolation.replace_environ(meta.get("env") or {})
        if hasattr(time, "tzset"):
            time.tzset()  # TZ may have just changed (AWS sets TZ=UTC)
        # awslambdaric turns ensure_ascii off from python3.12 on.
        self.ensure_ascii = not errors.marshal_utf8()
        logsetup.configure(
            self.platform,
            os.environ.get("AWS_LAMBDA_LOG_LEVEL"),
            os.environ.get("AWS_LAMBDA_LOG_FORMAT"),
        )
        _add_layers(meta.get("paths") or [], stdlib.code_root)
        if meta.get("writable") is not None:  # None: --writable
            readonly.install(list(meta["writable"]), self.platform, stdlib.code_root)
        recorder = deployed.Recorder(stdlib.code_root) if meta.get("deployed") else None
        try:
            if recorder is not None:
                with recorder:
                    self.handler = loader.resolve(self.platform, meta["entry"])
            else:
                self.handler = loader.resolve(self.platform, meta["entry"])
        except errors.InitFault as fault:
            self.init_error = errors.make_error(
                self.platform, fault.message, fault.error_type, fault.trace, None
            )
            self._log_init_error(None)
        except Exception as exc:
            self.init_error = errors.from_exception(self.platform, exc, None, loading=True)
            self._log_init_error(exc)
        reply: dict[str, Any] = {
            "op": protocol.READY,
            "ok": self.init_error is None,
            "initMs": (time.perf_counter() - started) * 1000.0,
        }
        if self.init_error is not None:
            reply["error"] = self.init_error
        elif recorder is not None:
            # After initMs: the platform's init does not include HandlerLens's own look.
            told = deployed.report(recorder, meta["deployed"])
            if told:
                reply["deployedTold"] = told
        return reply

    def _log_init_error(self, exc: BaseException | None) -> None:
        assert self.init_error is not None
        if self.platform == "aws":
            # The platform's root handler is installed as logging loads (logsetup).
            stdlib.load("logging").warning(_AWS_INIT_WARNING)
        errors.log_error(self.platform, self.init_error, exc, loading=True)

    def _event(self, mode: str, payload: bytes) -> Any:
        if mode == "raw":
            try:
                return json.loads(payload)
            except ValueError:
                return payload.decode("utf-8", "replace")
        if payload[:1] == b"{" and payload[1:2] != b"\x00":
            # UTF-8 (json.loads would find the same by looking at the first bytes); decoded
            # here, the parse skips that detection, a third of its time for an HTTP event.
            return json.loads(payload.decode("utf-8", "surrogatepass"))
        return json.loads(payload)

    def _context(self, meta: dict[str, Any]) -> Any:
        rid = meta["rid"]
        if self.platform == "aws":
            return LambdaContext(
                rid,
                meta.get("clientContext"),
                meta.get("identity"),
                int(meta["deadlineMs"]),
                meta.get("arn") or self.static.get("invoked_function_arn", ""),
                meta.get("tenantId"),
            )
        return YandexContext(rid, int(meta["deadlineMs"]), self.static)

    def _await(self, awaitable: Any) -> Any:
        asyncio = stdlib.load("asyncio")
        # One loop for the worker's lifetime (§9 #8), so async clients kept in globals work.
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
        return self._loop.run_until_complete(awaitable)

    def invoke(
        self, meta: dict[str, Any], payload: bytes, event: Any = _UNSET
    ) -> tuple[dict[str, Any], bytes]:
        """Call the handler once; returns the result frame (meta, payload).

        The event is `payload` parsed, or `event` as is (a request this worker parsed itself).
        """
        rid = meta["rid"]
        logsetup.set_request_id(rid)
        if self.platform == "aws":
            if meta.get("traceId"):
                os.environ["_X_AMZN_TRACE_ID"] = meta["traceId"]
            else:
                os.environ.pop("_X_AMZN_TRACE_ID", None)
        if self.init_error is not None or self.handler is None:
            error = dict(self.init_error or {})
            return {"op": protocol.RESULT, "ok": False, "errorKind": "init", "error": error}, b""
        try:
            if event is _UNSET:
                event = self._event(meta.get("mode", "json"), payload)
            result = self.handler(event, self._context(meta))
            if self.platform == "yandex" and hasattr(result, "__await__"):
                result = self._await(result)
        except Exception as exc:
            error = errors.from_exception(self.platform, exc, rid)
            errors.log_error(self.platform, error, exc)
            return {
                "op": protocol.RESULT,
                "ok": False,
                "errorKind": "unhandled",
                "error": error,
            }, b""
        return self._marshal(rid, result)

    def _marshal(self, rid: str, result: Any) -> tuple[dict[str, Any], bytes]:
        try:
            if self.platform == "aws":
                kind, body = marshal.marshal_aws(result, self.ensure_ascii)
            else:
                kind, body = marshal.marshal_yandex(result)
        except marshal.MarshalFailure as failure:
            if self.platform == "aws":
                error = errors.make_error("aws", str(failure), "Runtime.MarshalError", [], rid)
                errors.log_error("aws", error, None)
                return {
                    "op": protocol.RESULT,
                    "ok": False,
                    "errorKind": "marshal",
                    "error": error,
                }, b""
            return {
                "op": protocol.RESULT,
                "ok": False,
                "errorKind": "unserialisable",
                "detail": str(failure),
                "repr": marshal.describe(result),
            }, b""
        return {"op": protocol.RESULT, "ok": True, "kind": kind}, body


def _add_layers(paths: list[str], root: str) -> None:
    """The layers' entries right after the code root, in the order given: on Lambda the
    code root (/var/task) comes first, then /opt/python/lib/python3.X/site-packages and
    /opt/python, then the runtime's own (DG packaging-layers.html, PLATFORMS.md §11.2)."""
    if not paths:
        return
    at = 0
    for index, entry in enumerate(sys.path):
        if entry and os.path.realpath(entry) == root:
            at = index + 1
            break
    sys.path[at:at] = [p for p in paths if p not in sys.path]
