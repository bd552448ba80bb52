"""The inputs every subject gets: a generated 2,000-line handler module and trivial handlers.

Everything here is deterministic: the same text, the same edit positions, every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MODULE_LINES = 2000

_HELPER = '''

def helper_{i}(payload, limit={i}):
    """Helper number {i}: does some ordinary work."""
    items = [x * 2 for x in range(limit) if x % 3]
    total = sum(items)
    if payload and isinstance(payload, dict):
        name = payload.get("name", "anon")
        return {{"name": name, "total": total, "count": len(items)}}
    return {{"total": total}}
'''

SIGNATURE = "def handler(event, context):"
SIGNATURE_BROKEN = "def handler(event):"  # handler-arity; `context` below becomes undefined
SYNTAX_LINE = "    total = 0"
SYNTAX_BROKEN = "    total = = 0"
MARKER = "    # typing happens here"

_HANDLER = '''

{signature}
    """The entry point: an HTTP invocation."""
    rc = event["requestContext"]
    method = event["httpMethod"]
    headers = event.get("headers") or {{}}
    body = event.get("body", "")
{filler}
    for name, value in headers.items():
        print(name, value)
{marker}
{syntax_line}
    deadline = context.get_remaining_time_in_millis()
    result = [method, rc["requestId"], deadline, total, steps]
    return {{"statusCode": 200, "body": json.dumps(result)}}
'''


@dataclass(frozen=True)
class Module:
    """The generated module and the line numbers (0-based) the benchmark edits."""

    text: str
    signature_line: int
    syntax_line: int
    marker_line: int

    @property
    def lines(self) -> list[str]:
        """The text split into lines."""
        return self.text.split("\n")


def make_module(lines: int = MODULE_LINES) -> Module:
    """A valid, lint-clean module of about `lines` lines with the handler in the middle."""
    filler = "    steps = [\n" + "".join(f"        helper_{k % 7}(body),\n" for k in range(20))
    filler += "    ]"
    handler = _HANDLER.format(
        signature=SIGNATURE, filler=filler, marker=MARKER, syntax_line=SYNTAX_LINE
    )
    helpers: list[str] = []
    i = 0
    size = 2 + handler.count("\n")  # the import line and the final newline
    while size + _HELPER.count("\n") <= lines:
        helpers.append(_HELPER.format(i=i))
        size += _HELPER.count("\n")
        i += 1
    half = len(helpers) // 2
    text = "import json\n" + "".join(helpers[:half]) + handler + "".join(helpers[half:])
    all_lines = text.split("\n")
    return Module(
        text=text,
        signature_line=all_lines.index(SIGNATURE),
        syntax_line=all_lines.index(SYNTAX_LINE),
        marker_line=all_lines.index(MARKER),
    )


PYPROJECT = """[project]
name = "bench-function"
version = "0"

[tool.handlerlens]
platform = "yandex"
name = "bench"
entry = "main.handler"
"""


def write_lsp_project(root: Path, module: Module) -> Path:
    """A workspace declaring one Yandex function `main.handler`; returns main.py's path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    main = root / "main.py"
    main.write_text(module.text)
    return main


def platform_handler(value: str) -> str:
    """A trivial `handler(event, context)` (Yandex / AWS) answering `value`."""
    return f'def handler(event, context):\n    return {{"statusCode": 200, "body": "{value}"}}\n'


def flask_handler(value: str) -> str:
    """A trivial functions-framework HTTP function answering `value`."""
    return f'def handler(request):\n    return "{value}"\n'
