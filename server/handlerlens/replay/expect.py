"""Expected responses: reading `<name>.expected.json`, comparing a response with it, the diff.

The file (its JSON Schema: `data/schemas/expected.schema.json`) says one of three things:

- an HTTP-shaped response (the handler returned an object with `statusCode`): `status`, the
  `headers` that matter (a subset; names case-insensitive) and `body` (compared as JSON when
  the response's body is JSON, base64 decoded first when `isBase64Encoded`, text otherwise);
- any other result: `result`, the returned JSON itself;
- a function error: `errorType` (and, when it matters, `errorMessage`).

Only the keys the file has are compared. `ignore` lists dotted paths masked on both sides
(`headers.date`, `body.items.*.id`, `result.createdAt`); a path that masks nothing on either
side is reported, never silently dropped.

Validation is written out here rather than with `jsonschema`: three dozen lines with messages
that name the key, instead of a run-time dependency for one small file format (a test checks
both against each other).
"""

from __future__ import annotations

import base64
import difflib
import json
from dataclasses import dataclass, field
from typing import Any

EXPECTED_SUFFIX = ".expected.json"
SCHEMA_KEY = "$schema"
COMPARED_KEYS = ("status", "headers", "body", "result", "errorType", "errorMessage")
KNOWN_KEYS = (*COMPARED_KEYS, "ignore", SCHEMA_KEY)
HTTP_KEYS = frozenset({"status", "headers", "body"})
ERROR_KEYS = frozenset({"errorType", "errorMessage"})


class ExpectationError(Exception):
    """An expected file (or an `ignore` setting) that cannot be used; the message says why."""


def parse_json(data: bytes, name: str) -> Any:
    """`data` as JSON, or ValueError whose message is `name:line:column: what is wrong`."""
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except ValueError as exc:  # not UTF-8 (or -16/-32) text
        raise ValueError(f"{name}: not valid JSON: {exc}") from None


def validate_ignore(value: Any, where: str) -> list[str]:
    """An `ignore` list: non-empty dotted paths; ExpectationError naming `where` otherwise."""
    if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
        raise ExpectationError(
            f'{where}: `ignore` must be a list of dotted paths, e.g. ["headers.date", '
            '"body.createdAt"]'
        )
    for path in value:
        head = path.split(".", 1)[0]
        if head not in COMPARED_KEYS:
            raise ExpectationError(
                f"{where}: ignore path {path!r} must start with one of {', '.join(COMPARED_KEYS)}"
            )
    return list(value)


def validate_expected(data: Any, where: str) -> dict[str, Any]:
    """The expected file's content, checked; ExpectationError naming `where` and the key."""
    if not isinstance(data, dict):
        raise ExpectationError(f"{where}: an expected file must be a JSON object")
    for key in data:
        if key not in KNOWN_KEYS:
            near = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ExpectationError(
                f"{where}: unknown key {key!r}{hint}; an expected file has {', '.join(KNOWN_KEYS)}"
            )
    status = data.get("status")
    if "status" in data and (
        not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599
    ):
        raise ExpectationError(f"{where}: `status` must be an HTTP status code (100-599)")
    headers = data.get("headers")
    if "headers" in data and (
        not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())
    ):
        raise ExpectationError(f"{where}: `headers` must be an object of header name → text")
    for key in ERROR_KEYS:
        if key in data and not isinstance(data[key], str):
            raise ExpectationError(f"{where}: `{key}` must be a string")
    if "ignore" in data:
        validate_ignore(data["ignore"], where)
    compared = set(data) & set(COMPARED_KEYS)
    if not compared:
        raise ExpectationError(
            f"{where}: says nothing to compare: give status/headers/body (an HTTP response), "
            "result (any other), or errorType (a function error)"
        )
    kinds = [k for k, keys in _KINDS.items() if compared & keys]
    if len(kinds) > 1:
        raise ExpectationError(
            f"{where}: mixes {' and '.join(kinds)} keys ({', '.join(sorted(compared))}); a "
            "response is one of: status/headers/body, result, errorType/errorMessage"
        )
    return data


_KINDS = {"HTTP response": HTTP_KEYS, "result": frozenset({"result"}), "error": ERROR_KEYS}


def load_expected(path: str, shown: str) -> dict[str, Any]:
    """Read and check one expected file; ExpectationError naming `shown` otherwise."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise ExpectationError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        data = parse_json(raw, shown)
    except ValueError as exc:
        raise ExpectationError(str(exc)) from None
    return validate_expected(data, shown)


def actual_view(payload: Any, function_error: bool) -> dict[str, Any]:
    """A response in the expected file's terms: errorType/errorMessage, status/headers/body,
    or result."""
    if function_error:
        error = payload if isinstance(payload, dict) else {}
        return {
            "errorType": str(error.get("errorType", "")),
            "errorMessage": str(error.get("errorMessage", "")),
        }
    if isinstance(payload, dict) and "statusCode" in payload:
        return {
            "status": payload["statusCode"],
            "headers": _headers(payload),
            "body": _body(payload),
        }
    return {"result": payload}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _headers(payload: dict[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    single = payload.get("headers")
    if isinstance(single, dict):
        headers.update({str(k): _text(v) for k, v in single.items()})
    multi = payload.get("multiValueHeaders")
    if isinstance(multi, dict):
        for name, values in multi.items():
            items = values if isinstance(values, list) else [values]
            headers[str(name)] = ", ".join(_text(v) for v in items)
    return headers


def _body(payload: dict[str, Any]) -> Any:
    body = payload.get("body")
    if not isinstance(body, str):
        return body
    if payload.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except ValueError:
            return body  # binary: compared as its base64 text
    try:
        return json.loads(body)
    except ValueError:
        return body


@dataclass
class Comparison:
    """The verdict on one response: `diff` is empty when it matches."""

    passed: bool
    diff: str = ""
    unused_ignores: list[str] = field(default_factory=list)
    # The two sides as compared (masked, keys sorted, pretty): for a side-by-side diff view.
    expected_text: str = ""
    actual_text: str = ""


def compare(
    expected: dict[str, Any], actual: dict[str, Any], ignore: list[str], expected_name: str
) -> Comparison:
    """Compare the keys `expected` has with `actual` (both in `actual_view`'s terms)."""
    want = {k: expected[k] for k in COMPARED_KEYS if k in expected}
    same_kind = all(k in actual or (k == "errorMessage" and "errorType" in actual) for k in want)
    if same_kind:
        got: dict[str, Any] = {}
        for key in want:
            if key == "headers":
                by_name = {name.lower(): value for name, value in actual["headers"].items()}
                got["headers"] = {
                    name: by_name[name.lower()]
                    for name in want["headers"]
                    if name.lower() in by_name
                }
            elif key in actual:
                got[key] = actual[key]
        if isinstance(want.get("body"), str) and not isinstance(got.get("body"), str):
            try:  # a JSON body written as text in the file
                want["body"] = json.loads(want["body"])
            except ValueError:
                pass
    else:
        got = json.loads(json.dumps(actual))
    want = json.loads(json.dumps(want))
    full_actual = json.loads(json.dumps(actual))
    unused = []
    for path in ignore:
        parts = path.split(".")
        hit_want = _remove(want, parts)
        hit_got = _remove(got, parts)
        if not (hit_want or hit_got or _remove(full_actual, parts)):
            unused.append(path)
    want_text = _pretty(want)
    got_text = _pretty(got)
    if want_text == got_text:
        return Comparison(
            True, unused_ignores=unused, expected_text=want_text, actual_text=got_text
        )
    diff = difflib.unified_diff(
        want_text.splitlines(),
        got_text.splitlines(),
        fromfile=f"expected ({expected_name})",
        tofile="actual",
        lineterm="",
    )
    return Comparison(False, "\n".join(diff), unused, want_text, got_text)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _remove(node: Any, parts: list[str], *, top: bool = True, fold_case: bool = False) -> bool:
    """Delete what the dotted path names under `node`; True when it named something. Header
    names (`headers.Date` for `date`) match whatever their case."""
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict):
        keys: list[Any] = [
            k
            for k in node
            if head in ("*", k) or (fold_case and isinstance(k, str) and k.lower() == head.lower())
        ]
    elif isinstance(node, list):
        if head == "*":
            keys = list(range(len(node)))
        elif head.isdigit() and int(head) < len(node):
            keys = [int(head)]
        else:
            keys = []
    else:
        return False
    hit = False
    for key in reversed(keys):
        if not rest:
            del node[key]
            hit = True
        elif _remove(node[key], rest, top=False, fold_case=top and head == "headers"):
            hit = True
    return hit


def updated_expected(old: dict[str, Any] | None, actual: dict[str, Any]) -> dict[str, Any]:
    """What `--update` writes: the actual response in the file's terms, keeping the old file's
    `$schema`, `ignore` and choice of headers (all of them for a new file)."""
    new: dict[str, Any] = {}
    if old and SCHEMA_KEY in old:
        new[SCHEMA_KEY] = old[SCHEMA_KEY]
    if "errorType" in actual:
        new["errorType"] = actual["errorType"]
        new["errorMessage"] = actual["errorMessage"]
    elif "status" in actual:
        new["status"] = actual["status"]
        headers: dict[str, str] = actual["headers"]
        if old is not None and "headers" in old:
            by_name = {name.lower(): value for name, value in headers.items()}
            headers = {n: by_name[n.lower()] for n in old["headers"] if n.lower() in by_name}
            new["headers"] = headers
        elif old is None or not HTTP_KEYS & set(old):
            if headers:
                new["headers"] = headers
        new["body"] = actual["body"]
    else:
        new["result"] = actual["result"]
    if old and old.get("ignore"):
        new["ignore"] = old["ignore"]
    return new
