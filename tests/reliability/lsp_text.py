"""A client's view of a document (LSP line and UTF-16 rules) and hypothesis-drawn edit plans.

The plan is drawn up front from a local model of the text, so hypothesis can shrink it without a
server; the session then replays it through incremental `didChange` notifications.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from lsprotocol import types as lsp


class LspText:
    """Text addressed the way an LSP client addresses it: lines end at \\n, \\r\\n or \\r."""

    def __init__(self, text: str) -> None:
        self.text = text

    def position(self, offset: int) -> lsp.Position:
        """The LSP position (UTF-16 column) of code-point `offset`."""
        text = self.text
        line_start = 0
        line = 0
        index = 0
        while index < offset:
            char = text[index]
            if char == "\r" and index + 1 < len(text) and text[index + 1] == "\n":
                index += 2
                line += 1
                line_start = index
                continue
            if char in "\r\n":
                line += 1
                line_start = index + 1
            index += 1
        column = sum(2 if ord(c) > 0xFFFF else 1 for c in text[line_start:offset])
        return lsp.Position(line=line, character=column)

    def snap(self, offset: int) -> int:
        """`offset` clamped to the text, moved off the middle of a \\r\\n pair."""
        offset = max(0, min(offset, len(self.text)))
        if 0 < offset < len(self.text) and self.text[offset - 1 : offset + 1] == "\r\n":
            offset -= 1
        return offset

    def replace(self, start: int, end: int, new: str) -> lsp.TextDocumentContentChangePartial:
        """Apply an edit locally; the change event that describes it to the server."""
        change = lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=self.position(start), end=self.position(end)), text=new
        )
        self.text = self.text[:start] + new + self.text[end:]
        return change


# -- what gets typed -----------------------------------------------------------------------

PYTHON_FRAGMENTS = (
    "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n",
    "async def handler(event, context):\n    return {}\n",
    "def list_order(event, *, context):\n    pass\n",
    "def make_thumbnail(event):\n    return 1\n",
    "def charge(event, context, extra):\n",
    "handler = Mangum(app)\n",
    "from app import handler\n",
    "class handler:\n    pass\n",
    "    name = event['queryStringParameters']['name']\n",
    "    left = context.get_remaining_time_in_millis()\n",
    "    return {'statusCode': '200', 'body': {'a': 1}}\n",
    "    return {1, 2}\n",
    "    return b'bytes'\n",
    "@logger.inject_lambda_context\n",
    "if True:\n  def",
    "'''never closed",
    "(((((",
    "\tdef handler(event, context): return object()\n",
)
SAM_FRAGMENTS = (
    "  Extra:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n"
    "      Handler: app.create_order\n      Runtime: python3.12\n",
    "      Handler: app.nothing_here\n",
    "      Handler: !Sub '${Name}.handler'\n",
    "      Runtime: python2.7\n",
    "      CodeUri: ../../..\n",
    "Globals:\n  Function:\n    Timeout: 3\n",
    "      Events:\n        Q:\n          Type: SQS\n",
    "  bad: [unclosed\n",
    "&a *a <<: *b\n",
    "\t- tab",
    ": : :",
)
SERVERLESS_FRAGMENTS = (
    "  other:\n    handler: handler.make_thumbnail\n    runtime: python3.8\n",
    "    handler: handler.missing\n",
    "provider:\n  name: yandex-cloud\n",
    "    events:\n      - http: GET /\n",
    "    handler: ${self:custom.where}\n",
    "functions: [",
)
TERRAFORM_FRAGMENTS = (
    'resource "yandex_function" "more" {\n  name = "more"\n  runtime = "python312"\n'
    '  entrypoint = "main.handler"\n  execution_timeout = "10"\n}\n',
    'resource "aws_lambda_function" "x" {\n  handler = "main.nope"\n  runtime = "python3.12"\n'
    '  filename = "x.zip"\n}\n',
    '  entrypoint = "main.handlr"\n',
    "${path.module}",
    'variable "v" {',
    "locals { a = [for x in y : x] }\n",
    '"}"',
)
PYPROJECT_FRAGMENTS = (
    '[tool.handlerlens]\nplatform = "aws"\nentry = "main.handler"\n',
    '[[tool.handlerlens.functions]]\nname = "refund"\nentry = "main.refund"\ntimeout = "x"\n',
    "memory = -1\n",
    'entry = "main.charge_card"\n',
    "env = { A = 1 }\n",
    "[tool.handlerlens\n",
    '"""',
)
FRAGMENTS = {
    "python": PYTHON_FRAGMENTS,
    "yaml": SAM_FRAGMENTS,
    "serverless": SERVERLESS_FRAGMENTS,
    "terraform": TERRAFORM_FRAGMENTS,
    "toml": PYPROJECT_FRAGMENTS,
}

# Characters that end a line for `str.splitlines` only (not for LSP, nor for Python) come
# often: they once put pygls's buffer and the diagnostics' columns out of step.
SPLITLINES_ONLY_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_unicode = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)), st.sampled_from(SPLITLINES_ONLY_BREAKS)
    ),
    max_size=12,
)
_bytes = st.binary(max_size=16).map(lambda b: b.decode("latin-1"))
_utf8_mangled = st.binary(max_size=16).map(lambda b: b.decode("utf-8", "replace"))
_syntax = st.sampled_from(
    ["\n", "\r\n", "\r", "\t", "    ", ":", "(", ")", "[", "]", "{", "}", "'", '"', "#", "\\", "."]
)


@st.composite
def _fragment(draw: st.DrawFn, kind: str) -> str:
    """A config or handler fragment, often cut short: what a half-typed edit looks like."""
    text = draw(st.sampled_from(FRAGMENTS[kind]))
    if draw(st.booleans()):
        return text
    return text[: draw(st.integers(0, len(text)))]


def inserted_text(kind: str) -> st.SearchStrategy[str]:
    """Text to insert into a document of `kind`."""
    return st.one_of(_fragment(kind), _syntax, _unicode, _bytes, _utf8_mangled)


# -- the plan ------------------------------------------------------------------------------


@dataclass
class Step:
    """One thing the client does: send changes, make a request, save, or wait."""

    action: str  # change | request | save | reopen | pause
    changes: list[lsp.TextDocumentContentChangePartial] = field(default_factory=list)
    request: str = ""
    position: lsp.Position | None = None
    end: lsp.Position | None = None
    pause: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


REQUESTS = ("codeLens", "hover", "codeAction", "completion")


def _offset(draw: st.DrawFn, doc: LspText) -> int:
    return doc.snap(draw(st.integers(0, len(doc.text))))


def _edit(draw: st.DrawFn, doc: LspText, kind: str) -> lsp.TextDocumentContentChangePartial:
    what = draw(st.sampled_from(("insert", "insert", "delete", "replace")))
    start = _offset(draw, doc)
    end = start
    if what != "insert":
        span = draw(st.one_of(st.integers(0, 8), st.integers(0, 200)))
        end = doc.snap(start + span)
    new = "" if what == "delete" else draw(inserted_text(kind))
    return doc.replace(start, end, new)


def _request_position(draw: st.DrawFn, doc: LspText) -> lsp.Position:
    position = doc.position(_offset(draw, doc))
    # Past the end of a line is legal: servers treat it as the end of the line.
    overshoot = draw(st.sampled_from((0, 0, 0, 3)))
    return lsp.Position(line=position.line, character=position.character + overshoot)


@st.composite
def edit_plan(draw: st.DrawFn, text: str, kind: str, max_steps: int) -> tuple[list[Step], str]:
    """Steps that turn `text` into something else; returns them and the final text."""
    doc = LspText(text)
    steps: list[Step] = []
    for _ in range(draw(st.integers(max(1, max_steps // 3), max_steps))):
        action = draw(
            st.sampled_from(
                (
                    "edit",
                    "edit",
                    "edit",
                    "type",
                    "batch",
                    "request",
                    "request",
                    "save",
                    "reopen",
                    "pause",
                )
            )
        )
        if action == "edit":
            steps.append(Step("change", [_edit(draw, doc, kind)]))
        elif action == "batch":
            # Several changes in one notification: each applies to the result of the previous.
            count = draw(st.integers(2, 4))
            steps.append(Step("change", [_edit(draw, doc, kind) for _ in range(count)]))
        elif action == "type":
            # Keystrokes: one notification per character, nothing awaited in between.
            at = _offset(draw, doc)
            typed = draw(_fragment(kind))[:40]
            for char in typed:
                steps.append(Step("change", [doc.replace(at, at, char)]))
                at = doc.snap(at + 1)
        elif action == "request":
            request = draw(st.sampled_from(REQUESTS))
            start = _request_position(draw, doc)
            end = doc.position(_offset(draw, doc)) if request == "codeAction" else None
            if end is not None and (end.line, end.character) < (start.line, start.character):
                start, end = end, start
            trigger = draw(st.sampled_from((None, ".", "[", "'", '"')))
            steps.append(
                Step(
                    "request", request=request, position=start, end=end, extra={"trigger": trigger}
                )
            )
        elif action == "save":
            steps.append(Step("save"))
        elif action == "reopen":
            # Closed and opened again with the same text, as when a tab is reopened.
            steps.append(Step("reopen", extra={"text": doc.text}))
        else:
            # Long enough, sometimes, for the 30 ms debounce to fire between edits.
            steps.append(Step("pause", pause=draw(st.sampled_from((0.0, 0.01, 0.05)))))
    return steps, doc.text
