"""Each platform's failure phrasebook, and the one rule for how long a call may run.

Every path that answers a call — the supervisor (runner/calls.py, runner/call_endings.py,
runner/app.py), the lender (runner/lender.py), a worker answering lent connections
(worker/direct.py) and `handlerlens invoke` (runner/invoke.py) — asks here what a timeout, a
crashed runtime, a response over the platform's limit or a call ended by a reload says: the
function log's line and the error JSON. The HTTP status and headers around that JSON are the
HTTP face's (platforms/faces.py).

Standard library and relative imports only: a worker loads this package by path under a
private name (worker/direct.py). The platform modules a phrase needs load on first use, so
`handlerlens invoke` pays only for its own platform's.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not loaded: a worker imports this module
if TYPE_CHECKING:
    from typing import Any

# AWS runs init before the invocation's clock starts, limited to 10 s on demand; an init that
# does not finish in them is run again inside the first invocation, under the function's
# timeout (PLATFORMS.md §12.4: lambda-runtime-environment.html, "Init phase").
AWS_INIT_LIMIT_S = 10.0


class Failures:
    """What a platform says when a call fails; one instance per platform (failures_for)."""

    platform = ""
    # Whether the first call's timeout and Duration include its instance's init.
    counts_init = False
    # Said after an init error's text in the runner's log ("" when the text is the platform's).
    init_error_note = ""
    # Whether the invocation after a failed init runs init again in a fresh process rather
    # than get the cached error. AWS: awslambdaric exits after an init error and the next
    # invoke runs Init again (PLATFORMS.md §12.4). Yandex documents nothing here; §12.4's
    # recommendation (fidelity audit A43) is the same on both platforms, so Yandex does too.
    init_again = True
    # The longest the init of a new instance may take before the platform gives up on it (AWS:
    # 10 s on demand, see AwsFailures); None where no such limit is documented.
    init_limit_s: float | None = None

    def call_timeout(
        self, timeout_s: float, init_s: float = 0.0, *, debug: bool = False, in_init: bool = False
    ) -> float:
        """Seconds the call may run from now (see call_timeout())."""
        raise NotImplementedError

    def init_late(self, init_s: float, *, debug: bool = False) -> bool:
        """Whether an init that took `init_s` ran past the platform's init limit (AWS: it
        is then run again inside the first call, whose timeout and Duration count it)."""
        return False

    def timeout(
        self, request_id: str, timeout_s: float, source: str, init_s: float, now: float
    ) -> tuple[str, dict[str, Any]]:
        """(log line, error JSON) of a call that ran past its timeout; `init_s`: how much of
        the timeout the instance's init used, `source`: where the timeout was set."""
        raise NotImplementedError

    def crash(self, request_id: str, how: str) -> tuple[str, dict[str, Any]]:
        """(log line, error JSON) of a call whose runtime process died (`how`: describe_exit)."""
        line = f"RequestId: {request_id} Error: Runtime exited with error: {how}"
        return line, self._exit_error(request_id, how)

    def _exit_error(self, request_id: str, how: str) -> dict[str, Any]:
        raise NotImplementedError

    def interrupted(self, request_id: str, message: str) -> tuple[str, dict[str, Any]]:
        """(log line, error JSON) of a call the runner ended on purpose (a reload)."""
        error: dict[str, Any] = {"errorMessage": message, "errorType": "Runner"}
        error.update(self._ids(request_id))
        error["stackTrace"] = []
        return f"RequestId: {request_id} Error: {message}", error

    def _ids(self, request_id: str) -> dict[str, Any]:
        """Ids the platform's runtime puts in an error it raises itself."""
        return {}

    def invoke_body(self, kind: str, payload: bytes) -> bytes:
        """A synchronous invocation's result body, from the worker's marshalled result (its
        `kind`: json, str, bytes): what the Invoke API and `handlerlens invoke` print."""
        return payload

    def response_too_large(self, size: int) -> tuple[str, dict[str, Any]] | None:
        """(runner log line, function error) when a successful result of `size` bytes is over
        the platform's limit for the caller; None when it is not, or when the platform's HTTP
        mapping judges the size itself (Yandex's malformed response)."""
        return None


class YandexFailures(Failures):
    """Yandex Cloud Functions (PLATFORMS.md §5.1, §9, §10.5)."""

    platform = "yandex"
    counts_init = True
    init_error_note = " (Yandex does not document its load-error text; this is the Python error)"

    def call_timeout(
        self, timeout_s: float, init_s: float = 0.0, *, debug: bool = False, in_init: bool = False
    ) -> float:
        # The first call's timeout includes its init (§5.1); not under a debugger, where a
        # pause at an import-time breakpoint is nobody's init.
        return timeout_s if debug else timeout_s - init_s

    def timeout(
        self, request_id: str, timeout_s: float, source: str, init_s: float, now: float
    ) -> tuple[str, dict[str, Any]]:
        from . import yandex_response

        line = yandex_response.timeout_log_line(request_id, timeout_s, source, init_s)
        return line, dict(yandex_response.TIMEOUT_BODY)

    def _exit_error(self, request_id: str, how: str) -> dict[str, Any]:
        from . import yandex_response

        return yandex_response.exit_error(how)

    def invoke_body(self, kind: str, payload: bytes) -> bytes:
        # A `str` return becomes a JSON string.
        if kind == "str":
            import json

            text = json.dumps(payload.decode("utf-8", "replace"), ensure_ascii=False)
            return text.encode()
        return payload


class AwsFailures(Failures):
    """AWS Lambda (PLATFORMS.md §5.2, §9 #15)."""

    platform = "aws"

    # An init that ran past AWS_INIT_LIMIT_S stands for the one Lambda then runs again inside
    # the first invocation: it is not run twice here, but its time counts in that call's
    # timeout and REPORT Duration (`invoke` and `serve`), as the retry's does (PLATFORMS.md
    # §12.4).
    init_limit_s: float | None = AWS_INIT_LIMIT_S

    def call_timeout(
        self, timeout_s: float, init_s: float = 0.0, *, debug: bool = False, in_init: bool = False
    ) -> float:
        if in_init:
            # Its 10 s, else (run again inside the call) the call's timeout.
            return max(AWS_INIT_LIMIT_S, timeout_s) - init_s
        if debug or init_s <= AWS_INIT_LIMIT_S:
            return timeout_s  # init ran before the call's clock started
        return timeout_s - init_s

    def init_late(self, init_s: float, *, debug: bool = False) -> bool:
        return not debug and init_s > AWS_INIT_LIMIT_S

    def timeout(
        self, request_id: str, timeout_s: float, source: str, init_s: float, now: float
    ) -> tuple[str, dict[str, Any]]:
        from . import aws_errors

        message = aws_errors.timeout_message(request_id, timeout_s, now)
        return message, aws_errors.timeout_error(request_id, timeout_s, now)

    def _exit_error(self, request_id: str, how: str) -> dict[str, Any]:
        from . import aws_errors

        return aws_errors.exit_error(request_id, how)

    def _ids(self, request_id: str) -> dict[str, Any]:
        return {"requestId": request_id}

    def response_too_large(self, size: int) -> tuple[str, dict[str, Any]] | None:
        from . import aws_errors

        if size <= aws_errors.MAX_RESPONSE_BYTES:
            return None
        return aws_errors.response_too_large_message(size), aws_errors.response_too_large_error()


_FAILURES: dict[str, Failures] = {"yandex": YandexFailures(), "aws": AwsFailures()}


def failures_for(platform: str) -> Failures:
    """The phrasebook of `platform` ("yandex" or "aws")."""
    return _FAILURES[platform]


def call_timeout(
    platform: str,
    timeout_s: float,
    init_s: float = 0.0,
    *,
    debug: bool = False,
    in_init: bool = False,
) -> float:
    """How long a call may run from now, in seconds: the one rule every path applies.

    `timeout_s` is the function's timeout; `init_s` how long its instance's init took, for the
    first call on that instance (0 otherwise). Yandex counts that init in the call's timeout
    (PLATFORMS.md §5.1), except under a debugger (`debug`: a pause at an import-time
    breakpoint is nobody's init; a pause during the call stops its clock, see
    runner/watch.py). AWS runs init before the call's clock starts, for AWS_INIT_LIMIT_S at
    most: an init past them is what Lambda runs again inside the call, so its time counts in
    the call's timeout (while init still runs, `in_init`, counting from the instance's start,
    it may go on until the later of its limit and the timeout).
    A result of 0 or less: init used the whole timeout and the call times out unrun.
    """
    return _FAILURES[platform].call_timeout(timeout_s, init_s, debug=debug, in_init=in_init)
