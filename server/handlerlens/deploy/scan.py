"""What one Python file imports and which environment variables it reads, from its text alone.

Parsed one top-level statement at a time (the same split as `analysis.python_module`), with a
cache per statement text: a keystroke re-parses only the statement it touched, and statements
that neither import nor read the environment are not parsed at all. In `check`, a file's scan
is kept in the parse cache by its text, so an unchanged file is not parsed on the next run.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from handlerlens.core.problems import Span
from handlerlens.core.python_module import chunk_bounds, chunk_tree
from handlerlens.core.text import LineIndex
from handlerlens.deploy.scan_visitor import EMPTY, OS_SPELLINGS, WORDS, ChunkScan, Loc, Visitor
from handlerlens.project import parse_cache


@dataclass(frozen=True)
class ImportRef:
    """One imported module: `import a.b` → module 'a.b'; `from ..x import y` → level 2, 'x'."""

    module: str
    level: int
    names: tuple[str, ...]  # what a from-import takes (a submodule, or a name)
    span: Span
    guarded: bool  # in a `try:` whose handler catches ImportError
    # Never needed deployed: under `if TYPE_CHECKING:`, `if __name__ == "__main__":`, or the
    # `except ImportError:` fallback of another import.
    type_checking: bool


@dataclass(frozen=True)
class EnvRead:
    """A read of an environment variable whose absence raises (or yields None into a call)."""

    name: str
    span: Span  # the name's string literal
    how: str  # "subscript" or "get"


@dataclass(frozen=True)
class FileScan:
    """Imports and environment reads of one file; `parsed` False when it does not parse (then
    its imports are unknown, never guessed)."""

    parsed: bool
    imports: tuple[ImportRef, ...] = ()
    env_reads: tuple[EnvRead, ...] = ()
    env_guarded: frozenset[str] = frozenset()  # names tested with `in os.environ`
    star_import: bool = False
    dynamic_import: bool = False  # importlib.import_module / __import__


_chunks: dict[str, ChunkScan | None] = {}
CHUNK_LIMIT = 20_000
_files: dict[str, tuple[str, FileScan]] = {}


def scan_file(path: str, text: str) -> FileScan:
    """The scan of `text` (the current text of `path`), cached per path and text."""
    hit = _files.get(path)
    if hit is not None and hit[0] == text:
        return hit[1]
    store = parse_cache.active()
    if store is None:
        result = _scan(text)
    else:
        # By the text alone: a scan looks at nothing else.
        result = store.memo(parse_cache.key("deploy-scan", text), lambda: _scan(text), facts=False)
    _files[path] = (text, result)
    return result


def forget(path: str) -> None:
    """Drop the cached scan of `path`."""
    _files.pop(path, None)


_splits: dict[str, tuple[LineIndex, list[tuple[int, str]]]] = {}


def split(text: str) -> tuple[LineIndex, list[tuple[int, str]]]:
    """`text`'s lines and its top-level statements (first line, text), kept for the few
    texts last split: the import scan and the older-grammar check (grammar.py) split the same
    text."""
    hit = _splits.get(text)
    if hit is not None:
        return hit
    index = LineIndex(text)
    lines = index.lines
    chunks = [(a, "\n".join(lines[a:b]) + "\n") for a, b in chunk_bounds(text, lines)]
    if len(_splits) >= 32:
        _splits.pop(next(iter(_splits)))
    _splits[text] = (index, chunks)
    return index, chunks


def _scan(text: str) -> FileScan:
    index, chunks = split(text)
    parts: list[tuple[int, ChunkScan]] = []
    for start, chunk in chunks:
        scanned = _scan_chunk(chunk)
        if scanned is None:
            whole = _scan_chunk(text, cache=False)
            if whole is None:
                return FileScan(parsed=False)
            parts = [(0, whole)]
            break
        if scanned is not EMPTY:
            parts.append((start, scanned))
    imports: list[ImportRef] = []
    reads: list[EnvRead] = []
    guarded: set[str] = set()
    star = dynamic = False
    spellings = set(OS_SPELLINGS)
    for _, part in parts:
        spellings |= part.env_spellings
    for offset, part in parts:
        for module, level, names, loc, try_guard, tc in part.imports:
            imports.append(
                ImportRef(module, level, names, _span(index, loc, offset), try_guard, tc)
            )
        for name, loc, how, via in part.env_reads:
            if via in spellings:
                reads.append(EnvRead(name, _span(index, loc, offset), how))
        guarded |= part.env_guarded
        star |= part.star
        dynamic |= part.dynamic
    return FileScan(True, tuple(imports), tuple(reads), frozenset(guarded), star, dynamic)


def _span(index: LineIndex, loc: Loc, offset: int) -> Span:
    return index.span_ast(loc[0] + offset, loc[1], loc[2] + offset, loc[3])


def _scan_chunk(text: str, cache: bool = True) -> ChunkScan | None:
    if cache:
        hit = _chunks.get(text, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
    result: ChunkScan | None
    if WORDS.search(text) is None:
        result = EMPTY
    else:
        # A handler module's statements were parsed by its validation just before.
        tree = chunk_tree(text)
        try:
            if tree is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            result = None
        else:
            visitor = Visitor(text)
            visitor.body(tree.body, guarded=False, type_checking=False, key_guarded=False)
            result = visitor.result()
    if cache:
        if len(_chunks) >= CHUNK_LIMIT:
            _chunks.clear()
        _chunks[text] = result
    return result
