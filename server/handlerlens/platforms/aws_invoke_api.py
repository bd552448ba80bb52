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
    from typing import Any

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
# 6 MB synchronous payload limit of Invoke.
MAX_PAYLOAD = 6_291_456
LOG_TAIL_BYTES = 4096
LATEST = "$LATEST"
# RIE only knows the name `function`; accept it as an alias of the one served function.
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


def service_error(status: int, error_type: str, message: str) -> HttpReply:
    """A Lambda service error, typed so botocore raises the modeled exception."""
    return HttpReply.json(
        status,
        {"Type": "User" if status < 500 else "Service", "Message": message},
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
    )


def too_large(size: int) -> HttpReply:
    """413 `RequestTooLargeException`."""
    return service_error(
        413,
        "RequestTooLargeException",
        f"Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation "
        f"(got {size} bytes)",
    )


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
