"""Comparing a response with its expected file: the rules `handlerlens test` and the pytest
plugin share (the CLI tests run them end to end; these pin the corners)."""

from __future__ import annotations

import base64
import json

from handlerlens.replay.expect import actual_view, compare, updated_expected


def http(body: object, headers: dict[str, object] | None = None, **extra: object) -> dict:
    return actual_view({"statusCode": 200, "headers": headers or {}, "body": body, **extra}, False)


def test_json_bodies_compare_free_of_key_order_and_text_bodies_as_text() -> None:
    got = http(json.dumps({"b": 1, "a": [1, 2]}))
    assert got["body"] == {"a": [1, 2], "b": 1}
    assert compare({"body": {"a": [1, 2], "b": 1}}, got, [], "x").passed
    assert compare({"body": '{"a": [1, 2], "b": 1}'}, got, [], "x").passed  # JSON as text
    assert not compare({"body": {"a": [2, 1], "b": 1}}, got, [], "x").passed
    assert compare({"body": "plain"}, http("plain"), [], "x").passed
    assert not compare({"body": "plain"}, http("plain "), [], "x").passed


def test_base64_bodies_are_decoded_and_binary_ones_stay_base64() -> None:
    encoded = base64.b64encode(b'{"ok": true}').decode()
    assert http(encoded, isBase64Encoded=True)["body"] == {"ok": True}
    binary = base64.b64encode(b"\xff\xd8\xff").decode()
    assert http(binary, isBase64Encoded=True)["body"] == binary


def test_headers_are_a_subset_with_names_in_any_case() -> None:
    got = http(
        "",
        {"Content-Type": "text/plain", "X-Other": "1"},
        multiValueHeaders={"Set-Cookie": ["a=1", "b=2"]},
    )
    assert compare({"headers": {"content-type": "text/plain"}}, got, [], "x").passed
    assert compare({"headers": {"set-cookie": "a=1, b=2"}}, got, [], "x").passed
    missing = compare({"headers": {"x-missing": "1"}}, got, [], "x")
    assert not missing.passed and '-    "x-missing": "1"' in missing.diff


def test_ignore_masks_both_sides_with_wildcards_and_reports_what_masked_nothing() -> None:
    got = http(json.dumps({"items": [{"id": 1, "n": "a"}, {"id": 2, "n": "b"}]}), {"Date": "now"})
    want = {"headers": {"date": "then"}, "body": {"items": [{"id": 9, "n": "a"}, {"n": "b"}]}}
    verdict = compare(want, got, ["headers.DATE", "body.items.*.id", "body.nothing"], "x")
    assert verdict.passed, verdict.diff
    assert verdict.unused_ignores == ["body.nothing"]


def test_results_and_errors_and_a_change_of_kind() -> None:
    assert compare({"result": {"a": 1}}, actual_view({"a": 1}, False), [], "x").passed
    error = actual_view({"errorType": "ValueError", "errorMessage": "bad"}, True)
    assert compare({"errorType": "ValueError"}, error, [], "x").passed
    assert not compare({"errorType": "ValueError", "errorMessage": "good"}, error, [], "x").passed
    changed = compare({"status": 200}, error, [], "x")
    assert not changed.passed
    assert '+  "errorType": "ValueError"' in changed.diff and '-  "status": 200' in changed.diff


def test_update_keeps_the_old_files_headers_choice_ignore_and_schema() -> None:
    got = http(json.dumps({"a": 1}), {"Content-Type": "application/json", "Date": "now"})
    assert updated_expected(None, got) == {
        "status": 200,
        "headers": {"Content-Type": "application/json", "Date": "now"},
        "body": {"a": 1},
    }
    old = {"$schema": "s", "status": 500, "headers": {"content-type": "x"}, "ignore": ["body.a"]}
    assert updated_expected(old, got) == {
        "$schema": "s",
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": {"a": 1},
        "ignore": ["body.a"],
    }
    assert updated_expected({"status": 200}, got) == {"status": 200, "body": {"a": 1}}
