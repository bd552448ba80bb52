"""Platform facts the deploy checks need: preinstalled packages, platform-set environment
variables and the error texts of a failed import, per platform (PLATFORMS.md §6, §11, §12)."""

from __future__ import annotations

# Import names the runtime itself provides, per platform; `runtimes` None means every Python
# runtime of the platform.
# AWS: "the SDK and the standard library need not be packaged" [DG python-package.md]; boto3
# with botocore and what boto3 itself imports [DG lambda-python.md; PLATFORMS.md §11.2]:
# boto3 → botocore, s3transfer, jmespath; botocore → python-dateutil (dateutil, six), urllib3.
AWS_PREINSTALLED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3"}
)
AWS_PREINSTALLED_DISTS = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
# Not documented either way in PLATFORMS.md: the Lambda durable functions SDK may be part of the
# runtimes that run durable functions. Never claimed missing (no report), never claimed present.
AWS_MAYBE_PREINSTALLED = frozenset({"aws_durable_execution_sdk_python"})
# Yandex: python37 and python38 include the Yandex Cloud SDK; other runtimes list it in
# requirements.txt [YC functions/lang/python/sdk.md@67d46c7; PLATFORMS.md §11.1].
YANDEX_SDK_RUNTIMES = frozenset({"python37", "python38"})
YANDEX_PREINSTALLED = frozenset({"yandexcloud"})

# Environment variables each platform sets [PLATFORMS.md §6.2, §6.4, §12.1].
PLATFORM_ENV: dict[str, dict[str, str]] = {
    "aws": {
        "_HANDLER": "the handler location",
        "_X_AMZN_TRACE_ID": "the X-Ray header of the invocation",
        "AWS_REGION": "the function's region, e.g. us-east-1",
        "AWS_DEFAULT_REGION": "the region (set by the runtime; not in the 2023 list)",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": "the function's name",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "memory in MB, e.g. 128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/<function>",
        "AWS_LAMBDA_LOG_STREAM_NAME": "the log stream",
        "AWS_ACCESS_KEY": "the execution role's key",
        "AWS_ACCESS_KEY_ID": "the execution role's key id",
        "AWS_SECRET_ACCESS_KEY": "the execution role's secret key",
        "AWS_SESSION_TOKEN": "the execution role's session token",
        "AWS_LAMBDA_RUNTIME_API": "host:port of the Runtime API",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": "the runtime's library path",
        "PYTHONPATH": "$LAMBDA_RUNTIME_DIR",
        "TZ": "UTC",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "ip:port",
        "AWS_LAMBDA_LOG_FORMAT": "JSON or TEXT (from LoggingConfig)",
        "AWS_LAMBDA_LOG_LEVEL": "from LoggingConfig",
    },
    "yandex": {
        "_HANDLER": "the handler location",
        "AWS_LAMBDA_RUNTIME_API": "169.254.169.254",
        "LAMBDA_RUNTIME_DIR": "/function/runtime",
        "LAMBDA_TASK_ROOT": "/function/code",
        "PATH": "/function/code:/function/runtime/bin:…",
        "LD_LIBRARY_PATH": "/function/code/shared-libs:/function/runtime/shared-libs",
        "X_YCF_CONCURRENCY": "1 (seen on a Node.js instance)",
        "X_YCF_MEMORY_SIZE": "memory in bytes (seen on a Node.js instance)",
    },
}
# Set on every Linux process or by the interpreter: reading them is never a deploy problem.
ALWAYS_SET = frozenset({"HOME", "PWD", "HOSTNAME", "SHLVL", "USER", "TMPDIR"})


def import_error_text(platform: str, handler_module: str, missing: str) -> str:
    """What the platform reports when importing the handler module hits `missing`."""
    if platform == "aws":
        # [ric bootstrap.py `_get_handler`; PLATFORMS.md §11.2]
        return (
            f"Runtime.ImportModuleError: Unable to import module '{handler_module}': "
            f"No module named '{missing}'"
        )
    # Yandex: the load-error text is undocumented (§9 #1); this is the Python error.
    return f"ModuleNotFoundError: No module named '{missing}'"


def syntax_error_text(platform: str, handler_module: str, error: str) -> str:
    """What the platform reports when the runtime's Python cannot parse the code."""
    if platform == "aws":
        return f"Runtime.UserCodeSyntaxError: Syntax error in module '{handler_module}': {error}"
    return f"SyntaxError: {error}"
