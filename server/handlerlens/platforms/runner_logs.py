"""The platforms' system log lines around each invocation (PLATFORMS.md §6.1, §6.3, §9 #10)."""

from __future__ import annotations

import math

# The runtime's build and its ARN's hash are Lambda's own: placeholders of their shape here.
RUNTIME_BUILD = "v0"
RUNTIME_HASH = "0" * 64


def init_start_line(platform: str, runtime: str | None) -> str | None:
    """AWS's `INIT_START Runtime Version: python:3.12.v14\tRuntime Version ARN:
    arn:aws:lambda:<region>::runtime:<hash>`, written once per new execution environment as
    its init begins (PLATFORMS.md §12.4); None on Yandex, which documents no such line.

    The runtime is the declared one, else the local interpreter's (as AWS_EXECUTION_ENV,
    runner_env.aws_execution_env). The docs print the two fields apart with spaces; the tab
    here is REPORT's separator (§6.3) — uncertain (§12.4).
    """
    if platform != "aws":
        return None
    from .runner_env import REGION, aws_execution_env

    name = aws_execution_env(runtime).rpartition("_")[2]  # python3.12
    version = f"python:{name[len('python') :]}.{RUNTIME_BUILD}"
    arn = f"arn:aws:lambda:{REGION}::runtime:{RUNTIME_HASH}"
    return f"INIT_START Runtime Version: {version}\tRuntime Version ARN: {arn}"


def start_line(platform: str, request_id: str, version: str) -> str:
    """`START RequestID: … Version: …` (Yandex spells `RequestID`, AWS `RequestId`)."""
    key = "RequestID" if platform == "yandex" else "RequestId"
    return f"START {key}: {request_id} Version: {version}"


def end_line(platform: str, request_id: str) -> str:
    """`END RequestID: …`."""
    key = "RequestID" if platform == "yandex" else "RequestId"
    return f"END {key}: {request_id}"


def billed_ms(platform: str, duration_ms: float) -> int:
    """Yandex bills in 100 ms steps (docs' example); AWS rounds up to the millisecond."""
    if platform == "yandex":
        return max(100, int(math.ceil(duration_ms / 100.0)) * 100)
    return max(1, int(math.ceil(duration_ms)))


def report_line(
    platform: str,
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_memory_mb: int,
    init_ms: float | None,
    queue_ms: float,
) -> str:
    """One tab-separated REPORT line in the platform's field order."""
    billed = billed_ms(platform, duration_ms)
    if platform == "yandex":
        parts = [
            f"REPORT RequestID: {request_id}",
            f"Duration: {duration_ms:.3f} ms",
            f"Billed Duration: {billed} ms",
            f"Memory Size: {memory_mb} MB",
            f"Max Memory Used: {max_memory_mb} MB",
            f"Queuing Duration: {queue_ms:.3f} ms",
        ]
        if init_ms is not None:
            parts.append(f"Function Init Duration: {init_ms:.3f} ms")
        return "\t".join(parts)
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_mb} MB",
    ]
    if init_ms is not None:
        parts.append(f"Init Duration: {init_ms:.2f} ms")
    return "\t".join(parts) + "\t"


def readable_lines(line: str) -> list[str]:
    """One line of a function's log as people read it: each `\\r`-separated part on its own line.

    On both platforms a `\\r` inside a log line breaks the line within one log entry: the AWS
    runtime joins an error's traceback lines with it, Yandex's docs tell users to write
    multi-line entries so, and CloudWatch and Cloud Logging show such an entry as lines. A
    terminal would instead go back to the line's start and overprint, leaving only the tail of
    the last part. Programs get the line as it was written (`--status-json`, the Invoke API's
    `X-Amz-Log-Result`); this is for the terminal and the editor's output. A trailing `\\r` (a
    `\\r\\n` line end) goes, and so do empty parts before the first text (a progress bar that
    starts each redraw with `\\r` shows its steps one per line, as the log viewers do).
    """
    if "\r" not in line:
        return [line]
    parts = line.rstrip("\r").split("\r")
    while len(parts) > 1 and not parts[0]:
        del parts[0]
    return parts
