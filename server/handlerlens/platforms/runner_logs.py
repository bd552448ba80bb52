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


def init_report_line(
    platform: str, init_ms: float, phase: str, status: str, error_type: str | None
) -> str | None:
    """AWS's `INIT_REPORT Init Duration: 206.72 ms\\tPhase: init\\tStatus: error\\tError Type:
    Runtime.ImportModuleError`, written when an init fails (`status` "error") or runs past its
    limit ("timeout"); `phase` "init" for the init of a new instance ahead of any request,
    "invoke" for the one Lambda runs again inside the next request (PLATFORMS.md §12.4, the
    real log quoted there; DG lambda-runtime-environment.html). The error type is the one the
    runtime reports with its init error (awslambdaric posts it in the
    Lambda-Runtime-Function-Error-Type header since its PR #166), Runtime.ExitError when the
    process died. None on Yandex, which documents no such line."""
    if platform != "aws":
        return None
    parts = [f"INIT_REPORT Init Duration: {init_ms:.2f} ms", f"Phase: {phase}", f"Status: {status}"]
    if error_type:
        parts.append(f"Error Type: {error_type}")
    return "\t".join(parts)


def json_records(platform: str, env: dict[str, str]) -> bool:
    """Whether Lambda writes this function's platform lines as JSON records: its log format
    is JSON (`LoggingConfig: LogFormat: JSON`, AWS_LAMBDA_LOG_FORMAT=JSON), which applies to
    the system logs as to the application's (DG monitoring-cloudwatchlogs-logformat.html)."""
    return platform == "aws" and env.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"


def _number(text: str) -> float | int:
    value = float(text.split()[0])
    return int(value) if value.is_integer() and "." not in text.split()[0] else value


def _fields(line: str, head: str) -> dict[str, str]:
    """`Key: value` fields of a tab-separated platform line, after its `head` word."""
    found: dict[str, str] = {}
    for part in line[len(head) :].strip().split("\t"):
        key, sep, value = part.partition(": ")
        if sep:
            found[key.strip()] = value.strip()
    return found


def as_json_record(
    line: str,
    *,
    function_name: str,
    version: str = "$LATEST",
    status: str = "success",
    now: float | None = None,
) -> str | None:
    """A platform line as Lambda writes it in JSON log mode: one JSON object per line with
    `time`, `type` and `record` (DG telemetry-schema-reference.html: platform.initStart,
    platform.initReport, platform.start, platform.report and their record fields;
    monitoring-cloudwatchlogs-logformat.html: JSON system logs). `END` has no record there
    (None); a line that is no platform record (a timeout's message) is returned as it is.
    `status` is the invocation's for platform.report: success, error or timeout."""
    import json
    import time

    record: dict[str, object]
    if line.startswith("INIT_START "):
        fields = _fields(
            line.replace(" Runtime Version ARN:", "\tRuntime Version ARN:"), "INIT_START"
        )
        kind = "platform.initStart"
        record = {
            "initializationType": "on-demand",
            "phase": "init",
            "runtimeVersion": fields.get("Runtime Version", ""),
            "runtimeVersionArn": fields.get("Runtime Version ARN", ""),
            "functionName": function_name,
            "functionVersion": version,
        }
    elif line.startswith("INIT_REPORT "):
        fields = _fields(line, "INIT_REPORT")
        kind = "platform.initReport"
        record = {
            "initializationType": "on-demand",
            "phase": fields.get("Phase", "init"),
            "status": fields.get("Status", "error"),
        }
        if "Error Type" in fields:
            record["errorType"] = fields["Error Type"]
        record["metrics"] = {"durationMs": _number(fields.get("Init Duration", "0"))}
    elif line.startswith("START RequestId: "):
        request_id, _, rest = line[len("START RequestId: ") :].partition(" Version: ")
        kind = "platform.start"
        record = {"requestId": request_id, "version": rest or version}
    elif line.startswith("END RequestId: "):
        return None
    elif line.startswith("REPORT RequestId: "):
        fields = _fields(line.replace("REPORT RequestId: ", "REPORT\tRequestId: ", 1), "REPORT")
        names = (
            ("Duration", "durationMs"),
            ("Billed Duration", "billedDurationMs"),
            ("Memory Size", "memorySizeMB"),
            ("Max Memory Used", "maxMemoryUsedMB"),
            ("Init Duration", "initDurationMs"),
        )
        metrics = {key: _number(fields[name]) for name, key in names if name in fields}
        kind = "platform.report"
        record = {"requestId": fields.get("RequestId", ""), "metrics": metrics, "status": status}
    else:
        return line
    stamp = time.time() if now is None else now
    millis = int(stamp * 1000) % 1000
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)) + f".{millis:03d}Z"
    return json.dumps({"time": when, "type": kind, "record": record}, separators=(",", ":"))
