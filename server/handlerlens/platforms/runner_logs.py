"""The platforms' system log lines around each invocation (PLATFORMS.md §6.1, §6.3, §9 #10)."""

from __future__ import annotations

import math


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
