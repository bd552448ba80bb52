"""What the text around the cursor says, read from the one line the cursor is on.

Completion and hover must work while the line is half typed (`event['requestCo`), so this
module never parses Python: it scans the line for string literals and comments, then reads an
access chain backwards from the cursor (`rc['identity']['` → root `rc`, steps
`["identity"]`). LSP columns are UTF-16 code units; Python indexes code points; `ast` columns
are UTF-8 bytes: the converters are core.text's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlerlens.platforms.event_shapes import ELEM, Step

_PREFIX_CHARS = frozenset("rRbBuUfF")
_IDENT_TAIL = re.compile(r"[^\W\d]\w*\Z|\Z")
_IDENT_HEAD = re.compile(r"\w*")
_KEY_TAIL = re.compile(r"[^'\"\\\]\s)]*")
_FIRST_ARG = re.compile(r"\s*(['\"])([^'\"\\\n]*)\1\s*(?:,|$)")
_KEYWORDS = frozenset(
    "and as assert async await break class continue def del elif else except finally for from "
    "global if import in is lambda nonlocal not or pass raise return try while with yield "
    "None True False".split()
)


@dataclass(frozen=True)
class Literal:
    """A string literal on one line: [start, end) including prefix and quotes."""

    start: int
    end: int
    quote: str
    prefix: str
    closed: bool
    triple: bool

    @property
    def body_start(self) -> int:
        """Index just after the opening quote(s)."""
        return self.start + len(self.prefix) + (3 if self.triple else 1)


@dataclass(frozen=True)
class LineScan:
    """String literals and the comment start (or None) of one line."""

    literals: tuple[Literal, ...]
    comment: int | None

    def literal_at(self, index: int) -> Literal | None:
        """The literal whose body contains `index` (between the quotes, ends included)."""
        for lit in self.literals:
            close = lit.end - (3 if lit.triple else 1) if lit.closed else lit.end
            if lit.body_start <= index <= close:
                return lit
        return None


def scan_line(line: str) -> LineScan:
    """Find string literals and the comment on a line (a string open at the end stays open)."""
    literals: list[Literal] = []
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        if ch == "#":
            return LineScan(tuple(literals), i)
        if ch in "'\"":
            start = i
            j = i
            while j > 0 and line[j - 1] in _PREFIX_CHARS and j - start < 2:
                j -= 1
            prefix = line[j:i]
            if prefix and j > 0 and (line[j - 1].isalnum() or line[j - 1] == "_"):
                prefix = ""
            start = i - len(prefix)
            triple = line.startswith(ch * 3, i)
            k = i + (3 if triple else 1)
            closed = False
            while k < n:
                if line[k] == "\\":
                    k += 2
                    continue
                if triple and line.startswith(ch * 3, k):
                    k += 3
                    closed = True
                    break
                if not triple and line[k] == ch:
                    k += 1
                    closed = True
                    break
                k += 1
            end = min(k, n)
            literals.append(Literal(start, end, ch, prefix, closed, triple))
            i = end
            continue
        i += 1
    return LineScan(tuple(literals), None)


@dataclass(frozen=True)
class Chain:
    """An access chain `root[...]...` ending just before the cursor's `[`, `.get(` or `.`."""

    root: str
    steps: tuple[Step, ...]
    start: int


def _skip_ws_back(line: str, i: int) -> int:
    while i > 0 and line[i - 1] in " \t":
        i -= 1
    return i


def _is_ident(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _match_open(line: str, close_at: int, closers: dict[int, int]) -> int | None:
    """Index of the bracket opening the one at `close_at`, skipping string literals."""
    depth = 0
    i = close_at
    while i >= 0:
        if i in closers:
            i = closers[i] - 1
            continue
        ch = line[i]
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            depth -= 1
            if depth == 0:
                return i
        i -= 1
    return None


def _simple_literal(text: str) -> str | None:
    text = text.strip()
    if len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0]:
        body = text[1:-1]
        if "\\" not in body and text[0] not in body:
            return body
    return None


def _get_call_dot(line: str, paren: int) -> int | None:
    """If `line[paren]` is the `(` of `.get(`, the index of that `.`."""
    k = _skip_ws_back(line, paren)
    if k >= 3 and line[k - 3 : k] == "get" and (k == 3 or not _is_ident(line[k - 4])):
        d = _skip_ws_back(line, k - 3)
        if d > 0 and line[d - 1] == ".":
            return d - 1
    return None


def parse_chain(line: str, end: int, scan: LineScan) -> Chain | None:
    """Read `name[...]…` backwards from `end` (exclusive); None if it is not a plain chain."""
    closers = {lit.end - 1: lit.start for lit in scan.literals if lit.closed}
    steps: list[Step] = []
    i = end
    for _ in range(64):
        i = _skip_ws_back(line, i)
        if i == 0:
            return None
        ch = line[i - 1]
        if ch == "]":
            j = _match_open(line, i - 1, closers)
            if j is None:
                return None
            inner = line[j + 1 : i - 1]
            name = _simple_literal(inner)
            if name is not None:
                steps.append(("key", name))
            elif ":" not in inner:
                # A computed index (`[0]`, `[i]`, `[name]`) yields an element; a slice keeps
                # the list as it is.
                steps.append(ELEM)
            i = j
            continue
        if ch == ")":
            j = _match_open(line, i - 1, closers)
            if j is None:
                return None
            dot = _get_call_dot(line, j)
            m = _FIRST_ARG.match(line, j + 1, i - 1) if dot is not None else None
            if dot is None or m is None:
                return None
            steps.append(("key", m.group(2)))
            i = dot
            continue
        if _is_ident(ch):
            k = i
            while k > 0 and _is_ident(line[k - 1]):
                k -= 1
            name = line[k:i]
            if name[0].isdigit():
                return None
            d = _skip_ws_back(line, k)
            if d > 0 and line[d - 1] == ".":
                steps.append(("attr", name))
                i = d - 1
                continue
            if name in _KEYWORDS:
                return None
            return Chain(name, tuple(reversed(steps)), k)
        return None
    return None


@dataclass(frozen=True)
class KeySite:
    """The cursor is where a key goes: `x[`, `x['ke`, `x.get("`…; [start, end) gets replaced."""

    chain: Chain
    via_get: bool
    quote: str | None
    start: int
    end: int
    prefix: str


@dataclass(frozen=True)
class AttrSite:
    """The cursor is on an attribute after `x.`; [start, end) gets replaced."""

    chain: Chain
    start: int
    end: int
    prefix: str


def _opener_chain(line: str, before: int, scan: LineScan) -> tuple[Chain, bool] | None:
    """The chain before a `[` or `.get(` that ends at `before`, and whether it was `.get(`."""
    if before <= 0:
        return None
    opener = line[before - 1]
    if opener == "[":
        chain = parse_chain(line, before - 1, scan)
        return (chain, False) if chain is not None else None
    if opener == "(":
        dot = _get_call_dot(line, before - 1)
        if dot is None:
            return None
        chain = parse_chain(line, dot, scan)
        return (chain, True) if chain is not None else None
    return None


def find_site(line: str, index: int, scan: LineScan | None = None) -> KeySite | AttrSite | None:
    """Classify the cursor at `index` of `line` for completion, or None."""
    scan = scan if scan is not None else scan_line(line)
    if scan.comment is not None and index > scan.comment:
        return None
    lit = scan.literal_at(index)
    if lit is not None:
        if lit.prefix or lit.triple or index < lit.body_start:
            return None
        found = _opener_chain(line, _skip_ws_back(line, lit.start), scan)
        if found is None:
            return None
        chain, via_get = found
        if lit.closed:
            end = lit.end
        else:
            m = _KEY_TAIL.match(line, index)
            end = m.end() if m else index
        if not via_get and lit.closed:
            after = len(line) - len(line[end:].lstrip(" \t"))
            if after < len(line) and line[after] == "]":
                end = after + 1
        elif not via_get and end < len(line) and line[end] == "]":
            end += 1
        return KeySite(chain, via_get, lit.quote, lit.body_start, end, line[lit.body_start : index])
    if any(
        lit.start < index < lit.end or (index == lit.end and not lit.closed)
        for lit in scan.literals
    ):
        return None
    head = _IDENT_TAIL.search(line, 0, index)
    start = head.start() if head else index
    tail = _IDENT_HEAD.match(line, index)
    end = tail.end() if tail else index
    before = _skip_ws_back(line, start)
    if before > 0 and line[before - 1] == ".":
        dotted = parse_chain(line, before - 1, scan)
        return AttrSite(dotted, start, end, line[start:index]) if dotted is not None else None
    found = _opener_chain(line, before, scan)
    if found is None:
        return None
    chain, via_get = found
    if not via_get:
        after = len(line) - len(line[end:].lstrip(" \t"))
        if after < len(line) and line[after] == "]":
            end = after + 1
    return KeySite(chain, via_get, None, start, end, line[start:index])


@dataclass(frozen=True)
class KeyTarget:
    """Hover on the key of `chain['key']` / `chain.get('key')`; [start, end) is the literal."""

    chain: Chain
    key: str
    start: int
    end: int


@dataclass(frozen=True)
class AttrTarget:
    """Hover on `attr` in `chain.attr`."""

    chain: Chain
    attr: str
    start: int
    end: int


@dataclass(frozen=True)
class NameTarget:
    """Hover on a bare name (maybe the event or context parameter, or an alias)."""

    name: str
    start: int
    end: int

    @property
    def chain(self) -> Chain:
        """The name as a chain of no steps, to resolve as the others' chains are."""
        return Chain(self.name, (), self.start)


def find_hover_target(line: str, index: int) -> KeyTarget | AttrTarget | NameTarget | None:
    """What the cursor at `index` is on, for hover, or None."""
    scan = scan_line(line)
    if scan.comment is not None and index >= scan.comment:
        return None
    for lit in scan.literals:
        if lit.start <= index < lit.end:
            if not lit.closed or lit.prefix or lit.triple:
                return None
            name = _simple_literal(line[lit.start : lit.end])
            found = _opener_chain(line, _skip_ws_back(line, lit.start), scan)
            if name is None or found is None:
                return None
            return KeyTarget(found[0], name, lit.start, lit.end)
    at = index if index < len(line) and _is_ident(line[index]) else index - 1
    if at < 0 or at >= len(line) or not _is_ident(line[at]):
        return None
    start = at
    while start > 0 and _is_ident(line[start - 1]):
        start -= 1
    end = at + 1
    while end < len(line) and _is_ident(line[end]):
        end += 1
    word = line[start:end]
    if word[0].isdigit() or word in _KEYWORDS:
        return None
    before = _skip_ws_back(line, start)
    if before > 0 and line[before - 1] == ".":
        chain = parse_chain(line, before - 1, scan)
        return AttrTarget(chain, word, start, end) if chain is not None else None
    return NameTarget(word, start, end)
