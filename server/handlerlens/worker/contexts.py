"""The `context` objects handlers receive, shaped as each platform's runtime builds them."""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _remaining(deadline_ms: int) -> int:
    left = deadline_ms - int(time.time() * 1000)
    return left if left > 0 else 0


def _token(static: dict[str, Any]) -> dict[str, Any] | None:
    """The service account's IAM token as the platform gives it (`access_token`, `expires_in`
    seconds, `token_type`), read from the file the runner keeps fresh (runner/yc_token.py);
    None without one (PLATFORMS.md §12.2, §9 #7)."""
    path = static.get("token_file")
    if not path:
        return static.get("token")
    import json

    try:
        with open(path, encoding="utf-8") as file:
            data = json.loads(file.read())
        left = int(float(data["expires_at"]) - time.time())
        return {
            "access_token": str(data["access_token"]),
            "expires_in": max(0, left),
            "token_type": "Bearer",
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


class YandexContext:
    """Yandex Cloud Functions context: `vars()` gives exactly the attributes of the docs' dump."""

    def __init__(self, request_id: str, deadline_ms: int, static: dict[str, Any]) -> None:
        self.aws_request_id = request_id
        self.deadline_ms = deadline_ms
        self.function_name = static["function_name"]
        self.function_version = static["function_version"]
        self.invoked_function_arn = static["invoked_function_arn"]
        self.log_group_name = static["log_group_name"]
        self.log_stream_name = static["log_stream_name"]
        self.memory_limit_in_mb = int(static["memory_limit_in_mb"])
        self.request_id = request_id
        self.token = _token(static)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return _remaining(self.deadline_ms)


class CognitoIdentity:
    """Amazon Cognito identity of the caller (both fields None when there is none)."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, data: dict[str, Any] | None) -> None:
        data = data or {}
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")


class Client:
    """The mobile client of a client context."""

    __slots__ = (
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    )

    def __init__(self, data: dict[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, data.get(name))


class ClientContext:
    """Client context sent with `X-Amz-Client-Context`."""

    __slots__ = ("custom", "env", "client")

    def __init__(self, data: dict[str, Any]) -> None:
        self.custom = data.get("custom")
        self.env = data.get("env")
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else None


class LambdaContext:
    """AWS Lambda context, as awslambdaric builds it (memory size stays the raw env string)."""

    def __init__(
        self,
        request_id: str,
        client_context: dict[str, Any] | None,
        identity: dict[str, Any] | None,
        deadline_ms: int,
        invoked_function_arn: str,
        tenant_id: str | None,
    ) -> None:
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        if isinstance(client_context, dict):
            client_context.pop("w3c", None)
            self.client_context: ClientContext | None = ClientContext(client_context)
        else:
            self.client_context = None
        self.identity = CognitoIdentity(identity)
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout."""
        return _remaining(self._epoch_deadline_time_in_ms)

    def log(self, msg: object) -> None:
        """Write to the invocation log, as `LambdaContext.log` does."""
        sys.stdout.write(str(msg))
