"""Per-request log routing (runner/log_router.py), as `serve` (two pipes) and `invoke` (one
pipe for both streams) use it: each line goes to the operation that printed it."""

from __future__ import annotations

from handlerlens.runner.log_router import LogRouter
from handlerlens.worker.protocol import END_LINE


def _router(streams: dict[int, str], **options: int | None) -> tuple[LogRouter, list[tuple]]:
    lines: list[tuple] = []
    router = LogRouter(streams, lambda label, stream, raw: lines.append((label, stream, raw)))
    if "max_line" in options:
        router.max_line = options["max_line"]
    return router, lines


def test_lines_go_to_the_operation_whose_end_mark_has_not_passed():
    router, lines = _router({1: "stdout", 2: "stderr"})
    done: list[str] = []
    router.add("a")
    assert router.when_done("a", lambda: done.append("a"))
    router.output(1, b"a1\n" + END_LINE)
    router.output(2, b"a2\n")
    router.marked({1: 1, 2: 1})  # its reply: it marked both streams
    router.add("b")
    router.output(1, b"b1\n")
    assert done == []  # a's mark has not passed on stderr yet
    router.output(2, END_LINE + b"b2\n")
    assert done == ["a"]
    router.marked({})  # b printed no mark: its reply completes it
    assert lines == [
        ("a", "stdout", b"a1"),
        ("a", "stderr", b"a2"),
        ("b", "stdout", b"b1"),
        ("b", "stderr", b"b2"),
    ]
    assert router.pending == 0 and not router.when_done("a", lambda: None)


def test_text_before_a_mark_and_a_long_line_without_a_break():
    router, lines = _router({1: "stdout"}, max_line=4)
    router.add("a")
    router.output(1, b"no break" + END_LINE + b"123456789")
    router.marked({1: 1})
    router.closed(1)
    assert lines == [
        ("a", "stdout", b"no break"),
        ("a", "stdout", b"1234"),
        ("a", "stdout", b"5678"),
        (None, "stdout", b"9"),
    ]


def test_one_pipe_for_both_streams_counts_every_mark_and_keeps_bytes():
    # `invoke`: stdout and stderr share one pipe, so an operation that wrote to both
    # leaves two marks there; its log is complete once both have passed.
    router, lines = _router({9: "log"}, max_line=None)
    router.add(None)
    router.output(9, b"init\n" + END_LINE)
    router.marked({9: 2})
    router.add("rid")
    router.output(9, END_LINE + b"\xff out\n")
    assert router.pending == 1
    router.output(9, b"err\n" + END_LINE)
    router.marked({9: 1})
    assert router.pending == 0
    router.output(9, b"late")
    router.closed(9)
    assert lines == [
        (None, "log", b"init"),
        ("rid", "log", b"\xff out"),
        ("rid", "log", b"err"),
        (None, "log", b"late"),
    ]


def test_strict_order_holds_a_later_requests_lines_until_the_earlier_one_ended():
    router, lines = _router({1: "stdout", 2: "stderr"})
    router.strict = True
    router.add("a")
    router.marked({1: 1, 2: 1})
    router.add("b")
    router.output(1, END_LINE + b"b-out\n")
    assert lines == []  # a has not ended on stderr: b's line waits
    router.output(2, END_LINE)
    assert lines == [("b", "stdout", b"b-out")]
