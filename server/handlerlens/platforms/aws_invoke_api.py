"""The Lambda Invoke API as our local endpoint (PLATFORMS.md §7.3).

`POST /2015-03-31/functions/{FunctionName}/invocations`, answered like real Lambda so that
boto3's `lambda` client with `endpoint_url` works unchanged: modeled `…Exception` error types
in `x-amzn-errortype`, `X-Amz-Function-Error: Unhandled`, `X-Amz-Log-Result` for `Tail`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from .http_reply import HttpReply
from .runner_env import REGION, aws_arn

TYPE_CHECKING = False  # typing is not loaded: a worker may import this module
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, TypeVar

    Served = TypeVar("Served")

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
# 6 MB synchronous payload limit of Invoke.
MAX_PAYLOAD = 6_291_456
# 1 MB limit of an asynchronous (`Event`) invocation's payload (PLATFORMS.md §12.5: the Invoke
# API reference; the 2023 DG said 256 KB).
MAX_EVENT_PAYLOAD = 1_048_576
LOG_TAIL_BYTES = 4096
LATEST = "$LATEST"
# RIE only knows the name `function`; accept it as an alias when one function is served.
NAME_ALIAS = "function"

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


def function_arn(name: str, region: str = REGION) -> str:
    """The ARN named in `ResourceNotFoundException` messages."""
    return aws_arn(name, region)


def parse_function_name(raw: str) -> tuple[str, str | None]:
    """Name and qualifier from a name, partial ARN (`123:function:f`) or full ARN."""
    value = unquote(raw)
    qualifier: str | None = None
    if value.startswith("arn:"):
        parts = value.split(":")
        # arn:aws:lambda:region:account:function:name[:qualifier]
        name = parts[6] if len(parts) > 6 else value
        qualifier = parts[7] if len(parts) > 7 else None
        return name, qualifier
    parts = value.split(":")
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2], parts[3] if len(parts) > 3 else None
    if len(parts) == 2:
        return parts[0], parts[1]
    return value, None


def select(
    name: str, served: Mapping[str, Served], own_name: Callable[[Served], str]
) -> Served | None:
    """The served function a FunctionName names, None for a 404 (PLATFORMS.md §7.3).

    Its served name, or its own name as the platform knows it (`own_name`: a SAM function's
    logical id when it is served as `svc/name`); `function`, RIE's one name, only when one
    function is served. Any other name is ResourceNotFoundException, as on Lambda, also when
    only one function is served (there is no function of that name to reach).
    """
    found = served.get(name)
    if found is not None:
        return found
    matches = [fn for fn in served.values() if own_name(fn) == name]
    if len(matches) == 1:
        return matches[0]
    if name == NAME_ALIAS and len(served) == 1:
        return next(iter(served.values()))
    return None


def service_error(
    status: int, error_type: str, message: str, message_key: str = "Message"
) -> HttpReply:
    """A Lambda service error, typed so botocore raises the modeled exception. The message's
    member is `Message`, except where the API's model spells it `message` (§7.3)."""
    return HttpReply.json(
        status,
        {"Type": "User" if status < 500 else "Service", message_key: message},
        ("x-amzn-errortype", error_type),
    )


def not_found(name: str) -> HttpReply:
    """404 `ResourceNotFoundException` for an unknown function or qualifier."""
    return service_error(
        404, "ResourceNotFoundException", f"Function not found: {function_arn(name)}"
    )


def invalid_content(detail: str) -> HttpReply:
    """400 `InvalidRequestContentException` for a payload that is not JSON."""
    return service_error(
        400,
        "InvalidRequestContentException",
        f"Could not parse request body into json: {detail}",
        "message",
    )


# The type Lambda answers an oversized payload with. botocore models it as
# `RequestTooLargeException` (members `Type`, `message`), but the service sends
# `RequestEntityTooLargeException`, as every captured error shows (botocore's ClientError
# "An error occurred (RequestEntityTooLargeException) when calling the Invoke operation",
# the Java SDK's "Error Code: RequestEntityTooLargeException"), so botocore raises a
# ClientError with that code rather than the modeled class.
TOO_LARGE_TYPE = "RequestEntityTooLargeException"


def too_large(size: int, invocation_type: str = "RequestResponse") -> HttpReply:
    """413 for a payload over the invocation type's limit, in Lambda's own words: the
    synchronous "Request must be smaller than 6291456 bytes for the InvokeFunction
    operation", the asynchronous "N byte payload is too large for the Event invocation type
    (limit L bytes)"."""
    if invocation_type == "Event":
        message = (
            f"{size} byte payload is too large for the Event invocation type "
            f"(limit {MAX_EVENT_PAYLOAD} bytes)"
        )
    else:
        message = (
            f"Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation"
        )
    return service_error(413, TOO_LARGE_TYPE, message, "message")


def refuse_payload(invocation_type: str, body: bytes | None, body_size: int) -> HttpReply | None:
    """The 413 for a payload over `invocation_type`'s limit (§12.5), else None. `body` is None
    when the HTTP server did not keep it (over its own limit)."""
    limit = MAX_EVENT_PAYLOAD if invocation_type == "Event" else MAX_PAYLOAD
    if body is None or len(body) > limit:
        return too_large(body_size, invocation_type)
    return None


def invalid_parameter(message: str) -> HttpReply:
    """400 `InvalidParameterValueException`."""
    return service_error(400, "InvalidParameterValueException", message)


def runner_fault(message: str) -> HttpReply:
    """500 `ServiceException`: the runner itself failed."""
    return service_error(500, "ServiceException", message)


def success(kind: str, payload: bytes, log_result: str | None) -> HttpReply:
    """200 with the marshalled result; bytes results travel as `application/unknown`."""
    content_type = "application/unknown" if kind == "bytes" else "application/json"
    headers = [("Content-Type", content_type), ("X-Amz-Executed-Version", LATEST)]
    if log_result is not None:
        headers.append(("X-Amz-Log-Result", log_result))
    return HttpReply(200, headers, payload)


def function_error(error: dict[str, Any], log_result: str | None) -> HttpReply:
    """200 + `X-Amz-Function-Error: Unhandled` + the runtime's error JSON."""
    reply = HttpReply.json(
        200, error, ("X-Amz-Executed-Version", LATEST), ("X-Amz-Function-Error", "Unhandled")
    )
    if log_result is not None:
        reply.headers.append(("X-Amz-Log-Result", log_result))
    reply.function_error = True
    return reply


def accepted() -> HttpReply:
    """202 for `InvocationType: Event` (queued)."""
    return HttpReply(202, [("X-Amz-Executed-Version", LATEST)])


def dry_run() -> HttpReply:
    """204 for `InvocationType: DryRun`."""
    return HttpReply(204, [("X-Amz-Executed-Version", LATEST)])
