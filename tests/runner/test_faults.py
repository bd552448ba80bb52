"""Handlers that fail in every way: the platform's error, then the next request succeeds."""

from __future__ import annotations

import json
import re
import threading
import time

from tests.runner.harness import FIXTURES, Runner, alive, wait_gone


def _then_ok(runner: Runner) -> None:
    status, _, _ = runner.request("GET", "/counter/")
    assert status == 200


def test_timeout_is_504_and_the_next_request_gets_a_fresh_worker(yandex_runner: Runner):
    before = yandex_runner.request("GET", "/slow/?s=0")
    pid_before = json.loads(before[2])["pid"]
    started = time.monotonic()
    status, headers, body = yandex_runner.request("GET", "/hang/")
    assert time.monotonic() - started < 5
    assert status == 504
    assert json.loads(body) == {
        "errorMessage": "Exceeded maximum function execution time before timeout",
        "errorType": "Timeout",
    }
    rid = headers["x-request-id"]
    lines = [e["line"] for e in yandex_runner.logs(rid)]
    # What happened, which limit, and where it came from; not "499 request cancelled".
    # (A first call's init counts in its limit, as on Yandex; the line then says how much.)
    expected = re.compile(
        f"ERROR RequestID: {rid} Code: 504 Message: Execution timeout exceeded after 1.00 "
        r"seconds \(the function's timeout, 1 s, set with --timeout(; init took 0\.\d\d s of "
        r"it)?\)"
    )
    assert any(expected.fullmatch(line) for line in lines), lines
    assert not any("cancelled" in line for line in lines)
    assert lines[-2].startswith("END RequestID: ")
    assert yandex_runner.request("GET", "/hang/")[0] == 504  # and again: not stuck
    status, _, body = yandex_runner.request("GET", "/slow/?s=0")
    assert status == 200
    assert json.loads(body)["pid"] == pid_before  # other functions' instances were untouched


def test_sys_exit_and_os_exit_are_function_errors(yandex_runner: Runner):
    for path, how in (("/exits/", "exit status 3"), ("/hard_exit/", "exit status 7")):
        status, headers, body = yandex_runner.request("GET", path)
        assert status == 502
        assert headers["x-function-error"] == "true"
        assert json.loads(body)["errorMessage"] == f"Runtime exited with error: {how}"
        status, _, _ = yandex_runner.request("GET", path)
        assert status == 502  # a fresh worker, same verdict


def test_segfault_is_a_function_error_and_the_runner_survives(yandex_runner: Runner):
    status, _, body = yandex_runner.request("GET", "/segfault/")
    assert status == 502
    assert json.loads(body)["errorMessage"] == (
        "Runtime exited with error: signal: segmentation fault"
    )
    _then_ok(yandex_runner)


def test_printing_megabytes_is_logged_and_answered():
    # Its own runner with a 30 s timeout: writing and routing 3 MB of log is ~0.1 s on a quiet
    # machine but passed the shared fixture's 1 s timeout on a loaded one (a 504 that says
    # nothing about the log path under test).
    runner = Runner(
        ["spew=main.spew", "--platform", "yandex", "--timeout", "30", "--no-watch"],
        FIXTURES / "yandex",
    )
    try:
        status, headers, body = runner.request("GET", "/spew/")
        assert (status, body) == (200, b"spewed")
        lines = [e for e in runner.logs(headers["x-request-id"]) if e["stream"] == "stdout"]
        assert len(lines) == 3 * 1024
        assert all(e["line"] == "x" * 1023 for e in lines)
    finally:
        runner.stop()


def test_non_serialisable_return_is_a_proxy_integration_error(yandex_runner: Runner):
    status, _, body = yandex_runner.request("GET", "/unserialisable/")
    error = json.loads(body)
    assert status == 502 and error["errorType"] == "ProxyIntegrationError"
    assert "{1, 2}" in error["payload"]


def test_ten_megabyte_response_is_a_proxy_integration_error(yandex_runner: Runner):
    status, _, body = yandex_runner.request("GET", "/huge/")
    assert status == 502
    assert json.loads(body)["errorType"] == "ProxyIntegrationError"
    _then_ok(yandex_runner)


def test_one_request_at_a_time_per_instance(yandex_runner: Runner):
    results: list[dict[str, float]] = []

    def call() -> None:
        status, _, body = yandex_runner.request("GET", "/slow/?s=0.3")
        assert status == 200
        results.append(json.loads(body))

    seen = len(yandex_runner.stderr)
    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = sorted(results, key=lambda r: r["start"])
    assert first["pid"] == second["pid"]
    assert second["start"] >= first["end"]  # queued, never overlapping
    # The log reads as the platform's does for one instance: each request's START, END and
    # REPORT together, the queued request's START only after the first one's REPORT.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        system = [
            line.split()[1] + " " + line.split()[3]  # "[slow] START RequestID: <id> …"
            for line in yandex_runner.stderr[seen:]
            if line.startswith(("[slow] START ", "[slow] END ", "[slow] REPORT "))
        ]
        if len(system) >= 6:
            break
        time.sleep(0.05)
    assert len(system) == 6, system
    a, b = system[0].split()[1], system[3].split()[1]
    assert system == [f"START {a}", f"END {a}", f"REPORT {a}"] + [
        f"START {b}",
        f"END {b}",
        f"REPORT {b}",
    ], system


def test_globals_persist_across_warm_invocations(yandex_runner: Runner):
    first = int(yandex_runner.request("GET", "/counter/")[2])
    second = int(yandex_runner.request("GET", "/counter/")[2])
    assert second == first + 1


def test_invoke_api_rejects_invalid_json(yandex_runner: Runner):
    status, headers, body = yandex_runner.request(
        "POST", "/2015-03-31/functions/counter/invocations", b"{not json"
    )
    assert status == 400
    assert headers["x-amzn-errortype"] == "InvalidRequestContentException"
    # Lower-case `message` member (botocore's InvalidRequestContentException shape,
    # PLATFORMS.md §7.3 Corrections).
    assert json.loads(body)["message"].startswith("Could not parse request body into json")


def test_invoke_api_on_yandex_returns_the_result_as_json(yandex_runner: Runner):
    status, _, body = yandex_runner.request(
        "POST", "/2015-03-31/functions/raw_echo/invocations", b'{"k": "v"}'
    )
    assert status == 200
    assert json.loads(body) == {"type": "dict", "event": {"k": "v"}}
    status, headers, body = yandex_runner.request(
        "POST", "/2015-03-31/functions/boom/invocations", b"{}"
    )
    assert status == 502 and headers["x-function-error"] == "true"
    assert json.loads(body)["errorType"] == "ValueError"


def test_children_die_when_the_runner_stops(tmp_path):
    from tests.runner.harness import FIXTURES

    runner = Runner(["child=main.child", "--platform", "yandex", "--no-watch"], FIXTURES / "yandex")
    try:
        child = int(runner.request("GET", "/")[2])
        workers = runner.worker_pids()
        assert alive(child) and workers
    finally:
        assert runner.stop() == 0
    assert wait_gone([child, *workers]) == []


def test_outgrowing_the_memory_size_kills_the_instance_as_the_platform_does(
    yandex_runner: Runner,
):
    # The default memory size is 128 MB for Yandex: 40 MB fits, 300 MB does not.
    assert yandex_runner.request("GET", "/hog/?mb=40")[:3:2] == (200, str(40 << 20).encode())
    status, headers, body = yandex_runner.request("GET", "/hog/?mb=300")
    assert status == 502 and headers["x-function-error"] == "true"
    assert json.loads(body)["errorMessage"] == "Runtime exited with error: signal: killed"
    assert yandex_runner.wait_stderr("over the function's memory size of 128 MB: killed")
    _then_ok(yandex_runner)


def test_on_yandex_the_first_calls_init_counts_in_its_timeout(tmp_path):
    # The runner initialises ahead of the first request; on Yandex that init is part of the
    # first call's timeout (PLATFORMS.md §5.1), so a slow import can time it out.
    (tmp_path / "main.py").write_text(
        "import time\ntime.sleep(0.6)\n\ndef handler(event, context):\n"
        "    return {'statusCode': 200, 'body': 'ready'}\n"
    )
    short = Runner(["main.handler", "--platform", "yandex", "--timeout", "0.4"], tmp_path)
    try:
        assert short.request("GET", "/")[0] == 504
        assert short.request("GET", "/")[0] == 504  # a fresh instance: a fresh (slow) init
    finally:
        short.stop()
    enough = Runner(["main.handler", "--platform", "yandex", "--timeout", "2"], tmp_path)
    try:
        assert enough.request("GET", "/")[::2] == (200, b"ready")
        assert enough.request("GET", "/")[::2] == (200, b"ready")
    finally:
        enough.stop()
