"""Each platform's HTTP face: a request in, the event; the function's result out, the response.

One face per served function (face_for): Yandex Cloud Functions' HTTP invocation, or AWS API
Gateway with the payload version its trigger implies (REST 1.0, HTTP API 2.0). Every path that
answers HTTP asks the same face: the supervisor (runner/app.py), the lender when it answers
in a stopped worker's place (runner/lender.py), and a worker answering lent connections itself
(worker/direct.py) — so a change to a platform's mapping is a change here, whichever process
answers. Failures' words come from the phrasebook (platforms/failures.py).

Standard library and relative imports only: a worker loads this package by path under a
private name. A face loads its own platform's modules when it is made.
"""

from __future__ import annotations

from .failures import Failures, failures_for
from .http_reply import HttpReply

TYPE_CHECKING = False  # typing is not loaded: a worker imports this module
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .http_reply import IncomingRequest


class HttpFace:
    """How a platform's front end turns HTTP into calls and results into HTTP."""

    platform = ""
    # The header the front end puts its request id in.
    request_id_header = ""
    # API Gateway's payload version (AWS); None for Yandex.
    version: str | None = None
    failures: Failures

    def refuse(self, body: bytes | None, body_size: int) -> HttpReply | None:
        """The front end's answer to a request it does not pass on (too large), else None.
        `body` is None when the HTTP server did not keep it (over its limit)."""
        raise NotImplementedError

    def raw(self, query: str) -> bool:
        """Whether the request asks for the raw integration (the body is the event)."""
        return False

    def event(
        self, incoming: IncomingRequest, path: str, host: str, request_id: str, now: float
    ) -> dict[str, Any]:
        """The event the handler gets for `incoming`."""
        raise NotImplementedError

    def refuse_event(self, size: int) -> HttpReply | None:
        """The answer for an event of `size` bytes (JSON) the platform would not pass on."""
        return None

    def extra(self) -> dict[str, Any] | None:
        """What the call's context gets beyond the request id (AWS: a trace id)."""
        return None

    def reply(self, kind: str, payload: bytes) -> tuple[HttpReply, str | None]:
        """The response for a handler's result; the second item is a warning for the log."""
        raise NotImplementedError

    def raw_reply(self, payload: bytes) -> HttpReply:
        """The response for a raw integration's result (Yandex only: see raw())."""
        raise NotImplementedError

    def failed(self, status: str, error: dict[str, Any] | None, detail: str = "") -> HttpReply:
        """The response for a call that returned no result: `status` as in runner/outcome.py's
        Outcome (timeout, crash, error, init_error, unserialisable with `detail`)."""
        raise NotImplementedError

    def answer(self, result: dict[str, Any], payload: bytes) -> HttpReply:
        """The response for a worker's reply to an invocation (its meta `result`), mapped as
        the supervisor maps the same outcome. A warning for the runner's log goes into
        `result["warning"]`; a result over the platform's limit becomes a function error
        there as well (`ok` false, its `error`)."""
        return self.answer_with(result, payload, self.reply, self.failed)

    def answer_with(
        self,
        result: dict[str, Any],
        payload: bytes,
        reply: Callable[[str, bytes], tuple[HttpReply, str | None]],
        failed: Callable[[str, dict[str, Any] | None, str], HttpReply],
    ) -> HttpReply:
        """answer(), the result mapped by `reply` and a failure by `failed` (a gateway's own,
        platforms/gateway_base.py, in front of this face)."""
        if result.get("ok"):
            too_large = self.failures.response_too_large(len(payload))
            if too_large is None:
                mapped, warning = reply(str(result.get("kind")), payload)
                if warning:
                    result["warning"] = warning
                return mapped
            result["warning"], result["error"] = too_large
            result["ok"] = False
            result["errorKind"] = "unhandled"
        status = "unserialisable" if result.get("errorKind") == "unserialisable" else "error"
        return failed(status, result.get("error"), str(result.get("repr", "")))

    # -- the Invoke API (and `handlerlens invoke`'s result) ------------------------------
    def invoke_success(self, kind: str, payload: bytes, log_result: str | None) -> HttpReply:
        """A synchronous invocation's result."""
        raise NotImplementedError

    def invoke_failure(
        self, status: str, error: dict[str, Any] | None, detail: str, log_result: str | None
    ) -> HttpReply:
        """A synchronous invocation that returned no result."""
        raise NotImplementedError


class YandexFace(HttpFace):
    """functions.yandexcloud.net/<id> (PLATFORMS.md §4.1, §5.1, §9)."""

    platform = "yandex"
    request_id_header = "X-Request-Id"

    def __init__(self) -> None:
        from . import runner_env, yandex_http_event, yandex_response

        self.failures = failures_for(self.platform)
        self._env = runner_env
        self._event = yandex_http_event
        self._response = yandex_response

    def refuse(self, body: bytes | None, body_size: int) -> HttpReply | None:
        return self._response.too_large(body_size) if body is None else None

    def raw(self, query: str) -> bool:
        if not query:
            return False
        from urllib.parse import parse_qs

        return "raw" in parse_qs(query).get("integration", [])

    def event(
        self, incoming: IncomingRequest, path: str, host: str, request_id: str, now: float
    ) -> dict[str, Any]:
        return self._event.build_event(incoming, request_id, self._env.request_id(), now)

    def refuse_event(self, size: int) -> HttpReply | None:
        if size > self._event.MAX_REQUEST_JSON:
            return self._response.too_large(size)
        return None

    def reply(self, kind: str, payload: bytes) -> tuple[HttpReply, str | None]:
        return self._response.map_proxy_response(kind, payload)

    def raw_reply(self, payload: bytes) -> HttpReply:
        """`?integration=raw`: the return value as is."""
        return self._response.raw_response(payload)

    def failed(self, status: str, error: dict[str, Any] | None, detail: str = "") -> HttpReply:
        return self._response.failure(status, error, detail)

    def invoke_success(self, kind: str, payload: bytes, log_result: str | None) -> HttpReply:
        # A direct invocation's result as JSON (a `str` return becomes a JSON string).
        body = self.failures.invoke_body(kind, payload)
        return HttpReply(200, [("Content-Type", "application/json")], body)

    def invoke_failure(
        self, status: str, error: dict[str, Any] | None, detail: str, log_result: str | None
    ) -> HttpReply:
        return self._response.failure(status, error, detail)


# API Gateway's answer to a request over Lambda's payload limit (not Lambda's own error).
_AWS_TOO_LARGE = b'{"message":"Request Entity Too Large"}'


class ApiGatewayFace(HttpFace):
    """AWS API Gateway in front of Lambda (PLATFORMS.md §4.4, §5.2); the Invoke API (§7.3)."""

    platform = "aws"
    request_id_header = "Apigw-Requestid"

    def __init__(self, version: str) -> None:
        from . import aws_http_event, aws_response, runner_env

        self.version = version
        self.failures = failures_for(self.platform)
        self._env = runner_env
        self._event = aws_http_event
        self._response = aws_response

    @staticmethod
    def _invoke() -> Any:
        # Only the supervisor answers the Invoke API: a worker never loads it (nor `re`).
        from . import aws_invoke_api

        return aws_invoke_api

    def refuse(self, body: bytes | None, body_size: int) -> HttpReply | None:
        if body is None or len(body) > self._invoke().MAX_PAYLOAD:
            return HttpReply(413, [("Content-Type", "application/json")], _AWS_TOO_LARGE)
        return None

    def event(
        self, incoming: IncomingRequest, path: str, host: str, request_id: str, now: float
    ) -> dict[str, Any]:
        assert self.version is not None
        return self._event.build_event(self.version, incoming, path, host, request_id)

    def extra(self) -> dict[str, Any] | None:
        return {"traceId": self._env.trace_id()}

    def reply(self, kind: str, payload: bytes) -> tuple[HttpReply, str | None]:
        assert self.version is not None
        return self._response.map_response(self.version, kind, payload), None

    def failed(self, status: str, error: dict[str, Any] | None, detail: str = "") -> HttpReply:
        # The details stay in the log: REST answers 502, HTTP API 500.
        assert self.version is not None
        return self._response.function_error(self.version)

    def invoke_success(self, kind: str, payload: bytes, log_result: str | None) -> HttpReply:
        reply: HttpReply = self._invoke().success(kind, payload, log_result)
        return reply

    def invoke_failure(
        self, status: str, error: dict[str, Any] | None, detail: str, log_result: str | None
    ) -> HttpReply:
        reply: HttpReply = self._invoke().function_error(error or {}, log_result)
        return reply


def face_for(platform: str, trigger: str | None = None) -> HttpFace:
    """The HTTP face of a function on `platform` with `trigger` (AWS: its payload version)."""
    if platform == "aws":
        from .aws_http_event import payload_version

        return ApiGatewayFace(payload_version(trigger))
    return YandexFace()


def face_of(platform: str, version: str | None) -> HttpFace:
    """The face for a payload version already chosen (a worker's lent connections)."""
    return YandexFace() if version is None or platform != "aws" else ApiGatewayFace(version)
