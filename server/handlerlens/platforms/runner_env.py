"""What the runtime sets up for a function: reserved environment variables, context constants,
defaults (PLATFORMS.md §3, §6.2, §6.4).
"""

from __future__ import annotations

import os
import sys
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# RIE's region and account (§7.3): the ARN a local AWS function sees.
REGION = "us-east-1"
ACCOUNT = "012345678912"

# Both platforms default new functions to a 3 s timeout (§12.3 "Timeout when undeclared":
# DG API_CreateFunction.md, SAM samcli/local/lambdafn/config.py, YC cli-ref version create).
# Memory, §12.3 "Memory when undeclared": Yandex 128 MB; AWS 128 MB via the API,
# CloudFormation/SAM and Terraform, and RIE's 3008 MB only where nothing declares the function
# (an entry point typed on the command line: the runner then stands where RIE stands).
DEFAULT_TIMEOUT_S = 3.0
DEFAULT_MEMORY_MB = {"yandex": 128, "aws": 3008}
# What a declaration that names no memory size deploys with on AWS (API_CreateFunction.md;
# SAM local too: samcli/local/lambdafn/config.py:15-16).
AWS_DECLARED_MEMORY_MB = 128
# The Serverless Framework deploys an AWS function that names neither with a 6 s timeout and
# 1024 MB (its functions guide): run it as deployed.
SERVERLESS_AWS_TIMEOUT_S = 6.0
SERVERLESS_AWS_MEMORY_MB = 1024
# Writable on both platforms: /tmp only (§12.3 "Writable"; AWS: the code in /var/task is
# read-only, DG images-create.md; Yandex: /function/code is a read-only squashfs in a
# third-party mount table, uncertain for Python).
WRITABLE_PATHS = ("/tmp",)


def default_timeout(platform: str, declared_by: str | None) -> float:
    """The timeout of a function whose declaration names none."""
    if platform == "aws" and declared_by == "serverless":
        return SERVERLESS_AWS_TIMEOUT_S
    return DEFAULT_TIMEOUT_S


def default_memory(platform: str, declared_by: str | None) -> int:
    """The memory size of a function whose declaration names none (`declared_by` None or
    "heuristic": nothing declares it)."""
    if platform == "aws" and declared_by == "serverless":
        return SERVERLESS_AWS_MEMORY_MB
    if platform == "aws" and declared_by not in (None, "heuristic"):
        return AWS_DECLARED_MEMORY_MB
    return DEFAULT_MEMORY_MB[platform]


# SAM local's values when no credentials resolve (samcli/local/lambdafn/env_vars.py
# `_DEFAULT_AWS_CREDS`), and a token of the same kind: Lambda always sets all three from the
# execution role (§12.2). A call to AWS with them fails with an error that names the key.
PLACEHOLDER_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "defaultkey",
    "AWS_SECRET_ACCESS_KEY": "defaultsecret",
    "AWS_SESSION_TOKEN": "defaulttoken",
}


def credential_env(keys: dict[str, str] | None) -> dict[str, str]:
    """The role's credentials as Lambda sets them (§12.2, DG configuration-envvars.md: also
    the legacy AWS_ACCESS_KEY): the given keys, else the placeholders."""
    env = dict(keys or PLACEHOLDER_CREDENTIALS)
    env["AWS_ACCESS_KEY"] = env["AWS_ACCESS_KEY_ID"]
    return env


CREDENTIAL_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def role_credentials(
    platform: str, keys: dict[str, str] | None, inherited: dict[str, str]
) -> dict[str, str]:
    """The credentials the runtime sets for the function's role (§12.2): on AWS the keys of
    `--profile`, else the developer's own keys passed through `--inherit-env`, else the
    placeholders; Yandex sets none (its token comes through the context)."""
    if platform != "aws":
        return {}
    if keys is None and "AWS_ACCESS_KEY_ID" in inherited:
        # The developer passed their own keys through: theirs, not placeholders.
        keys = {k: inherited[k] for k in CREDENTIAL_NAMES if k in inherited}
    return credential_env(keys)


def base_env(platform: str, root: str, bin_dir: str | None) -> dict[str, str]:
    """The variables the platform sets that user configuration may change (§12.1), with the
    local code root and interpreter where the platform has /var/task and /var/lang/bin."""
    local_bin = [bin_dir] if bin_dir else []
    if platform == "aws":
        # PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin; LANG=en_US.UTF-8;
        # LD_LIBRARY_PATH=…:$LAMBDA_TASK_ROOT:$LAMBDA_TASK_ROOT/lib:/opt/lib; TZ=UTC (§12.1).
        return {
            "PATH": ":".join([*local_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "en_US.UTF-8",
            "LD_LIBRARY_PATH": f"{root}:{root}/lib",
            "TZ": "UTC",  # not reserved (§12.1): a function may set its own
        }
    # Yandex (a Node.js instance's values, §12.1): the code root first on PATH,
    # LD_LIBRARY_PATH=/function/code/shared-libs:/function/runtime/shared-libs.
    return {
        "PATH": ":".join([root, *local_bin, "/usr/bin", "/usr/local/bin", "/sbin", "/bin"]),
        "LD_LIBRARY_PATH": f"{root}/shared-libs",
    }


DEFAULT_AWS_NAME = "test_function"

_ID_ALPHABET = "abcdefghijklmnopqrstuv0123456789"


def _yandex_id(prefix: str, seed: str | None) -> str:
    """A 20-character Yandex-style resource id (`d4e…`), stable for a stable seed."""
    if seed is None:
        raw = os.urandom(17)
    else:
        # Not a secret, just stable: crc32 chained over a counter (hashlib costs start-up time).
        data = seed.encode()
        raw = b"".join(zlib.crc32(data, n).to_bytes(4, "big") for n in range(5))[:17]
    return prefix + "".join(_ID_ALPHABET[b % len(_ID_ALPHABET)] for b in raw)


# Random bytes for request ids, read from the OS a few kilobytes at a time: one system
# call per 256 ids instead of one per id (the runner makes two per HTTP request).
_random = bytearray()


def _forget_random() -> None:
    _random.clear()  # a forked child must not hand out its parent's ids


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_random)


def request_id() -> str:
    """A random (version 4) UUID string, as the platforms' request ids are.

    uuid.uuid4() gives the same; building it from the bytes directly is ~4× faster. Called
    from one thread at a time (the runner's event loop; `invoke`): two threads could take
    the same buffered bytes.
    """
    global _random
    if not _random:
        _random = bytearray(os.urandom(4096))
    raw = _random[-16:]
    del _random[-16:]
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def trace_id() -> str:
    """A fresh X-Ray trace header value, as Lambda's front end adds to each invocation."""
    import time

    return (
        f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};"
        f"Parent={os.urandom(8).hex()};Sampled=0"
    )


def new_version_id(platform: str) -> str:
    """A fresh version id: every reload is a new version, as a deploy would be."""
    return _yandex_id("d4e", None) if platform == "yandex" else "$LATEST"


def yandex_context(name: str, root: str, version: str, memory_mb: int) -> dict[str, Any]:
    """Constant context attributes of a Yandex function (§3.1): ids, memory as int, token."""
    function_id = _yandex_id("d4e", f"function:{root}:{name}")
    return {
        "function_name": function_id,
        "function_version": version,
        "invoked_function_arn": function_id,
        "log_group_name": _yandex_id("ckg", f"log-group:{root}:{name}"),
        "log_stream_name": version,
        "memory_limit_in_mb": memory_mb,
        # §9 #7: without a service account there is no token.
        "token": None,
    }


def gives_account_token(platform: str) -> bool:
    """Whether the platform hands a function with a service account that account's IAM token
    in its context (Yandex's `context.token`, §12.2; AWS gives role keys in variables)."""
    return platform == "yandex"


def aws_execution_env(runtime: str | None) -> str:
    """`AWS_Lambda_python3.12` from the declared runtime, else the local interpreter's."""
    if runtime and runtime.startswith("python3"):
        return f"AWS_Lambda_{runtime}"
    return f"AWS_Lambda_python3.{sys.version_info.minor}"


def reserved_env(
    platform: str,
    *,
    name: str,
    entry: str,
    root: str,
    memory_mb: int,
    timeout_s: float,
    runtime: str | None,
) -> dict[str, str]:
    """Variables the runtime sets and user configuration cannot override."""
    env = {"_HANDLER": entry, "LAMBDA_TASK_ROOT": root, "PYTHONUNBUFFERED": "1"}
    if platform == "aws":
        env.update(
            {
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_EXECUTION_ENV": aws_execution_env(runtime),
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(timeout_s)),
                "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/Functions",
                "AWS_LAMBDA_LOG_STREAM_NAME": "$LATEST",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            }
        )
    return env


def log_level_default(platform: str, env: dict[str, str]) -> dict[str, str]:
    """`AWS_LAMBDA_LOG_LEVEL=INFO` when `env` asks for AWS's JSON log format and names no
    level: Lambda sets the application log level with the format, INFO unless configured
    (PLATFORMS.md §12.1, SAM's LoggingConfig; awslambdaric itself would leave the root
    logger at WARNING). Nothing otherwise."""
    if platform != "aws" or env.get("AWS_LAMBDA_LOG_LEVEL"):
        return {}
    if env.get("AWS_LAMBDA_LOG_FORMAT", "").upper() != "JSON":
        return {}
    return {"AWS_LAMBDA_LOG_LEVEL": "INFO"}


def aws_arn(name: str, region: str = REGION) -> str:
    """`arn:aws:lambda:us-east-1:012345678912:function:<name>`, RIE's account and region."""
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
