"""A Python module's top-level statements, found without parsing: the rows they start at.

The one split that validation (`python_module.parse_module`, statement by statement) and the
event features (`analysis.events.flow`, function by function) share. A statement starts at a
line that is not indented, a comment, closing brackets, empty, or a clause (`else:`,
`except …:`) of the statement above it. `split` indexes a text; `resplit` indexes a text from
the version before it, looking only at the lines an edit touched (a keystroke in a large
module).
"""

from __future__ import annotations

import re
from bisect import bisect_right

from handlerlens.core.text import split_lines

# A line that does not start a new top-level statement: indented, a comment, closing
# brackets, empty, or a clause of the compound statement above it.
_CONTINUATION = re.compile(r"(?:else|elif|except|finally)\b|[ \t#)\]}]|$")
# The same rule over a whole text with \n breaks only: a break before a line that starts one
# (found by the regex engine, not a Python loop over the lines; the clause words are looked
# for only at column 0, which keeps the scan as fast as without them).
_START = re.compile(r"\n(?=[^ \t#)\]}\n])(?!(?:else|elif|except|finally)\b)")


def starts_statement(line: str) -> bool:
    """Whether `line` starts a top-level statement (split at column 0, no parse)."""
    return _CONTINUATION.match(line) is None


def statement_starts(text: str, lines: list[str]) -> list[int]:
    """The rows of `lines` (`split_lines(text)`) that start top-level statements."""
    if "\r" in text:
        return [i for i, line in enumerate(lines) if starts_statement(line)]
    starts = [0] if lines and starts_statement(lines[0]) else []
    row = prev = 0
    for m in _START.finditer(text):
        row += text.count("\n", prev, m.end())
        prev = m.end()
        starts.append(row)
    return starts


def split(text: str) -> tuple[list[str], list[int]]:
    """The lines of `text` (`split_lines`), and the rows that start top-level statements."""
    lines = split_lines(text)
    return lines, statement_starts(text, lines)


def _common_prefix(a: str, b: str, limit: int) -> int:
    """Length of the longest common prefix of `a` and `b`, at most `limit` (binary search
    over slice comparisons: each is a memcmp, so a keystroke in 2,000 lines costs ~20)."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, limit
    la, lb = len(a), len(b)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def resplit(
    old: str, old_lines: list[str], old_starts: list[int], text: str
) -> tuple[list[str], list[int]] | None:
    """What `split(text)` gives, from `split(old)` (the version before it): only the lines an
    edit touched are split and classified again (None: split from scratch)."""
    if "\r" in text or "\r" in old:
        return None
    limit = min(len(old), len(text))
    head = _common_prefix(old, text, limit)
    tail = _common_suffix(old, text, limit - head)
    first = old.count("\n", 0, head)  # the first row the edit touched, in both versions
    old_last = first + old.count("\n", head, len(old) - tail)
    new_last = first + text.count("\n", head, len(text) - tail)
    begin = old.rfind("\n", 0, head) + 1
    end = text.find("\n", len(text) - tail)
    middle = text[begin : end if end >= 0 else len(text)].split("\n")
    lines = old_lines[:first] + middle + old_lines[old_last + 1 :]
    starts = old_starts
    before = bisect_right(starts, first - 1)
    after = bisect_right(starts, old_last)
    shift = new_last - old_last
    touched = [first + i for i, line in enumerate(middle) if starts_statement(line)]
    return lines, starts[:before] + touched + [row + shift for row in starts[after:]]
