"""AWS Lambda failures the runner must phrase itself: timeout and a runtime that exited."""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _rfc3339(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


def timeout_message(request_id: str, timeout_s: float, now: float) -> str:
    """`<RFC 3339 time> <request id> Task timed out after N.NN seconds` (§9 #15)."""
    return f"{_rfc3339(now)} {request_id} Task timed out after {timeout_s:.2f} seconds"


def timeout_error(request_id: str, timeout_s: float, now: float) -> dict[str, Any]:
    """The Invoke API body of a timed-out call (§9 #15)."""
    return {
        "errorMessage": timeout_message(request_id, timeout_s, now),
        "errorType": "Sandbox.Timedout",
    }


def exit_error(request_id: str, how: str) -> dict[str, Any]:
    """The runtime process died mid-call (`sys.exit`, `os._exit`, a signal)."""
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {how}",
    }


# A synchronous invocation's response is at most 6 MB: "Exceeded maximum allowed payload
# size (6291556 bytes)" is what the runtime API answers a larger one (HTTP 413), and the
# caller gets a Function.ResponseSizeTooLarge function error; through API Gateway, a 502.
MAX_RESPONSE_BYTES = 6_291_556


def response_too_large_message(size: int) -> str:
    """The runner's log line when a synchronous response is over MAX_RESPONSE_BYTES."""
    return (
        f"the response is {size:,} bytes, over AWS Lambda's {MAX_RESPONSE_BYTES:,}-byte limit "
        "for a synchronous response: the caller gets Function.ResponseSizeTooLarge"
    )


def response_too_large_error() -> dict[str, Any]:
    """The function error an Invoke caller gets for a response over MAX_RESPONSE_BYTES."""
    return {
        "errorMessage": (
            f"Response payload size exceeded maximum allowed payload size "
            f"({MAX_RESPONSE_BYTES} bytes)."
        ),
        "errorType": "Function.ResponseSizeTooLarge",
    }


def describe_exit(returncode: int | None) -> str:
    """`exit status 3` or `signal: segmentation fault`, as Go's os/exec says it."""
    import signal

    if returncode is None:
        return "exit status unknown"
    if returncode < 0:
        names = {
            signal.SIGSEGV: "segmentation fault",
            signal.SIGKILL: "killed",
            signal.SIGABRT: "aborted",
            signal.SIGTERM: "terminated",
            signal.SIGBUS: "bus error",
        }
        try:
            number = signal.Signals(-returncode)
        except ValueError:
            return f"signal: signal {-returncode}"
        return "signal: " + names.get(number, number.name.lower())
    return f"exit status {returncode}"
