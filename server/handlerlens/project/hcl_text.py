"""HCL text prepared for the parser, without parsing: heredocs it accepts, blocks blanked.

A scanner that knows HCL's strings, templates, comments, braces and heredocs just well
enough to find where each top-level block ends; what it does not follow comes back
unchanged, for the parser to read (and report) as written. Offsets, lines and columns never
move: every change keeps the text's length and its line breaks.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_HEREDOC_OPEN = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\r?\n")


def normalise_heredocs(text: str) -> str:
    """`text` with each heredoc's closing line in the form python-hcl2 accepts.

    Terraform ends a heredoc at the first line that is its marker once trimmed of spaces and
    tabs; python-hcl2 allows only leading ones (its issue #343), so a closing `EOF  ` loses
    the whole file. Trailing blanks of such a line move in front of the marker: the text keeps
    its length, so every offset, line and column stays where it was.
    """
    if "<<" not in text:
        return text
    out: list[str] = []
    done = 0
    search_from = 0
    while True:
        opened = _HEREDOC_OPEN.search(text, search_from)
        if opened is None:
            break
        marker = opened.group(1)
        line_start = opened.end()
        search_from = len(text)
        while line_start < len(text):
            newline = text.find("\n", line_start)
            line_end = len(text) if newline < 0 else newline
            line = text[line_start:line_end]
            body = line[:-1] if line.endswith("\r") else line
            if body.strip(" \t") == marker:
                trailing = body[len(body.rstrip(" \t")) :]
                if trailing:
                    out.append(text[done:line_start])
                    out.append(trailing + body.rstrip(" \t") + line[len(body) :])
                    done = line_end
                search_from = line_end
                break
            line_start = line_end + 1
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def blank_blocks(text: str, keep: Callable[[str], bool]) -> str:
    """`text` with every top-level block whose header `keep` refuses turned into blanks.

    The parser's time grows with the text, and most blocks of a real .tf file (IAM policies,
    API Gateway, buckets) say nothing about functions. Blanking (every character but line
    breaks becomes a space, inside one block comment) keeps each remaining block at its
    offset, line and column. A text this scanner does not follow comes back unchanged, to be
    parsed whole.
    """
    out: list[str] = []
    done = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n\ufeff":
            i += 1
            continue
        after = _after_comment(text, i)
        if after is not None:
            if after < 0:
                return text
            i = after
            continue
        start = i
        while i < n and text[i] not in "{=\n":
            if text[i] == '"':
                i = _after_string(text, i + 1)
            else:
                i += 1
        if i >= n or text[i] != "{":
            return text
        end = _after_braces(text, i + 1)
        if end is None:
            return text
        if not keep(text[start:i]):
            out.append(text[done:start])
            out.append(_blank(text[start:end]))
            done = end
        i = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


_BLANK = re.compile(r"[^\r\n]")


def _blank(block: str) -> str:
    """A block's text as one `/* … */` comment of the same length and line breaks: the lexer
    reads it as a single token, where blanks alone cost one line-break token (and one
    skipped run of spaces) per line: ~15% of the parse of serverless-patterns' .tf files."""
    blank = _BLANK.sub(" ", block)
    close = blank.rfind("  ")  # the comment's end takes two blanks that are not line breaks
    if close < 2 or not blank.startswith("  "):
        return blank
    return "/*" + blank[2:close] + "*/" + blank[close + 2 :]


def _after_comment(text: str, i: int) -> int | None:
    """The index after the comment that starts at `i` (its line break is not part of it);
    -1 for a `/*` that never closes; None when no comment starts there."""
    if text.startswith(("#", "//"), i):
        return _line_end(text, i)
    if text.startswith("/*", i):
        close = text.find("*/", i + 2)
        return -1 if close < 0 else close + 2
    return None


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _after_string(text: str, i: int) -> int:
    """The index after the closing quote of a string whose body starts at `i`."""
    n = len(text)
    while True:
        # Jump to the next character that can matter (the scan runs over every .tf file).
        stop = _STRING_STOP.search(text, i)
        if stop is None:
            return n
        i = stop.start()
        ch = text[i]
        if ch == "\\":
            i += 2
        elif ch == '"':
            return i + 1
        elif ch == "\n":
            return i  # strings do not span lines: let the parser say so
        elif text.startswith(("$${", "%%{"), i):
            i += 3
        elif text.startswith(("${", "%{"), i):
            end = _after_braces(text, i + 2)
            if end is None:
                return n
            i = end
        else:
            i += 1


_STRING_STOP = re.compile(r'[\\"\n$%]')
_BRACES_STOP = re.compile(r'["#/<{}]')


def _after_braces(text: str, i: int) -> int | None:
    """The index after the `}` that closes a brace opened just before `i`; None if none."""
    depth = 1
    while True:
        stop = _BRACES_STOP.search(text, i)
        if stop is None:
            return None
        i = stop.start()
        ch = text[i]
        if ch == '"':
            i = _after_string(text, i + 1)
            continue
        after = _after_comment(text, i)
        if after is not None:
            if after < 0:
                return None
            i = after
            continue
        if ch == "<" and text.startswith("<<", i):
            opened = _HEREDOC_OPEN.match(text, i)
            if opened is not None:
                i = _after_heredoc(text, opened.end(), opened.group(1))
                continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1


def _after_heredoc(text: str, i: int, marker: str) -> int:
    """The index of the line break ending a heredoc whose first line starts at `i`."""
    n = len(text)
    while i < n:
        end = _line_end(text, i)
        if text[i:end].strip(" \t\r") == marker:
            return end
        i = end + 1
    return n
