"""`client/src/protocol.ts` and `server/handlerlens/lsp/protocol.py` declare the same protocol:
the same constants with the same values, and a Python type per TypeScript interface with the
same fields, optional (`?`) on the same ones.

The TypeScript side is read with a small line reader that knows the shapes protocol.ts uses:
`export const NAME = "value";` and `export interface Name {` … `}` with one `field?: type;` a
line (an inline object type `{ a: T; b?: U }` stays on its field's line and is compared too,
as `<Interface>.<field>`).
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, is_typeddict

import pytest

from handlerlens.lsp import protocol

REPO = Path(__file__).resolve().parents[2]
PROTOCOL_TS = REPO / "client" / "src" / "protocol.ts"

_CONST = re.compile(r'^export const (\w+) = "([^"]*)";$', re.M)
_INTERFACE = re.compile(r"^export interface (\w+) \{$")
_FIELD = re.compile(r"^  (\w+)(\?)?: ([^;{}]+|\{[^{}]*\});$")
_INLINE_FIELD = re.compile(r"^(\w+)(\?)?: ([^;{}]+)$")
# Python names the inline object types of protocol.ts: its TypedDict stands for
# `<Interface>.<field>`.
INLINE_TYPES = {"RunnerSettings": "ServerSettings.runner"}


@dataclass(frozen=True)
class Fields:
    """An interface's or a TypedDict's fields: which are required, which optional."""

    required: frozenset[str]
    optional: frozenset[str]


def ts_constants(text: str) -> dict[str, str]:
    """Every `export const NAME = "value";` of a TypeScript file."""
    return dict(_CONST.findall(text))


def ts_interfaces(text: str) -> dict[str, Fields]:
    """Every exported interface of a TypeScript file, with its fields."""
    found: dict[str, Fields] = {}
    name: str | None = None
    required: set[str] = set()
    optional: set[str] = set()
    for number, line in enumerate(text.splitlines(), 1):
        if name is None:
            start = _INTERFACE.match(line)
            if start:
                name, required, optional = start.group(1), set(), set()
            continue
        if line == "}":
            found[name] = Fields(frozenset(required), frozenset(optional))
            name = None
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith(("/*", "*", "//")):
            continue
        field = _FIELD.match(line)
        if field is None:
            raise AssertionError(f"protocol.ts:{number}: not a field this reader knows: {line!r}")
        (optional if field.group(2) else required).add(field.group(1))
        kind = field.group(3)
        if kind.startswith("{"):
            found[f"{name}.{field.group(1)}"] = _inline_fields(kind, number)
    if name is not None:
        raise AssertionError(f"interface {name} is not closed")
    return found


def _inline_fields(kind: str, number: int) -> Fields:
    required: set[str] = set()
    optional: set[str] = set()
    for part in kind.strip("{} ").split(";"):
        if not part.strip():
            continue
        field = _INLINE_FIELD.match(part.strip())
        if field is None:
            raise AssertionError(f"protocol.ts:{number}: not a field this reader knows: {part!r}")
        (optional if field.group(2) else required).add(field.group(1))
    return Fields(frozenset(required), frozenset(optional))


def py_constants(module: types.ModuleType) -> dict[str, str]:
    """The module's upper-case string constants."""
    return {k: v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)}


def py_typeddicts(module: types.ModuleType) -> dict[str, Fields]:
    """The module's public TypedDicts, with their fields."""
    found: dict[str, Fields] = {}
    for name, value in vars(module).items():
        if name.startswith("_") or not is_typeddict(value):
            continue
        typed: Any = value
        found[INLINE_TYPES.get(name, name)] = Fields(
            typed.__required_keys__, typed.__optional_keys__
        )
    return found


def disagreements(ts_types: dict[str, Fields], py_types: dict[str, Fields]) -> list[str]:
    """What differs between the two sides, one line each (empty when they agree)."""
    out: list[str] = []
    for name in sorted(ts_types.keys() - py_types.keys()):
        out.append(f"{name}: in protocol.ts only")
    for name in sorted(py_types.keys() - ts_types.keys()):
        out.append(f"{name}: in protocol.py only")
    for name in sorted(ts_types.keys() & py_types.keys()):
        ts, py = ts_types[name], py_types[name]
        ts_all, py_all = ts.required | ts.optional, py.required | py.optional
        for field in sorted(ts_all - py_all):
            out.append(f"{name}.{field}: in protocol.ts only")
        for field in sorted(py_all - ts_all):
            out.append(f"{name}.{field}: in protocol.py only")
        for field in sorted(ts.optional & py.required):
            out.append(f"{name}.{field}: optional in protocol.ts, required in protocol.py")
        for field in sorted(ts.required & py.optional):
            out.append(f"{name}.{field}: required in protocol.ts, optional in protocol.py")
    return out


def test_the_constants_agree() -> None:
    ts = ts_constants(PROTOCOL_TS.read_text())
    assert ts, "the reader found no constants in protocol.ts"
    py = py_constants(protocol)
    assert {k: py.get(k) for k in ts} == ts
    assert set(py) <= set(ts), f"in protocol.py only: {sorted(set(py) - set(ts))}"


def test_every_payload_has_the_same_fields_on_both_sides() -> None:
    ts = ts_interfaces(PROTOCOL_TS.read_text())
    assert {"FunctionRef", "RunResult", "EventItem", "ServerSettings"} <= ts.keys()
    assert ts["RunResult"].optional == {
        "json",
        "initMs",
        "url",
        "http",
        "expected",
        "event",
        "viaApp",
    }
    assert ts["ServerSettings.runner"].required == {"port", "timeout"}
    assert disagreements(ts, py_typeddicts(protocol)) == []


# -- the reader and the comparison fail where they must, on a synthetic pair ------------------

SYNTHETIC_TS = """\
/** A payload. */
export interface Payload {
  name: string;
  /** How long it took (null: not measured). */
  durationMs: number | null;
  runner: { port: number; timeout: number | null };
  url?: string;
}
"""


def _synthetic_py(**fields: tuple[str, ...]) -> dict[str, Fields]:
    return {
        "Payload": Fields(frozenset(fields.get("required", ())), frozenset(fields.get("opt", ()))),
        "Payload.runner": Fields(frozenset({"port", "timeout"}), frozenset()),
    }


def test_the_reader_reads_fields_optional_marks_and_inline_object_types() -> None:
    assert ts_interfaces(SYNTHETIC_TS) == {
        "Payload": Fields(frozenset({"name", "durationMs", "runner"}), frozenset({"url"})),
        "Payload.runner": Fields(frozenset({"port", "timeout"}), frozenset()),
    }


def test_a_synthetic_pair_that_agrees_agrees() -> None:
    py = _synthetic_py(required=("name", "durationMs", "runner"), opt=("url",))
    assert disagreements(ts_interfaces(SYNTHETIC_TS), py) == []


def test_a_renamed_field_is_a_disagreement() -> None:
    renamed = SYNTHETIC_TS.replace("durationMs:", "duration_ms:")
    py = _synthetic_py(required=("name", "durationMs", "runner"), opt=("url",))
    assert disagreements(ts_interfaces(renamed), py) == [
        "Payload.duration_ms: in protocol.ts only",
        "Payload.durationMs: in protocol.py only",
    ]


def test_a_field_optional_on_one_side_only_is_a_disagreement() -> None:
    py = _synthetic_py(required=("name", "durationMs", "runner", "url"))
    assert disagreements(ts_interfaces(SYNTHETIC_TS), py) == [
        "Payload.url: optional in protocol.ts, required in protocol.py"
    ]


def test_a_renamed_field_of_an_inline_object_type_is_a_disagreement() -> None:
    renamed = SYNTHETIC_TS.replace("{ port: number;", "{ portNumber: number;")
    py = _synthetic_py(required=("name", "durationMs", "runner"), opt=("url",))
    assert disagreements(ts_interfaces(renamed), py) == [
        "Payload.runner.portNumber: in protocol.ts only",
        "Payload.runner.port: in protocol.py only",
    ]


def test_an_interface_without_a_python_type_is_a_disagreement() -> None:
    ts = ts_interfaces(SYNTHETIC_TS + "\nexport interface Extra {\n  id: string;\n}\n")
    py = _synthetic_py(required=("name", "durationMs", "runner"), opt=("url",))
    assert disagreements(ts, py) == ["Extra: in protocol.ts only"]


def test_a_line_the_reader_does_not_know_fails_loudly() -> None:
    odd = SYNTHETIC_TS.replace("  url?: string;", "  url?: string; port: number;")
    with pytest.raises(AssertionError, match="not a field this reader knows"):
        ts_interfaces(odd)
