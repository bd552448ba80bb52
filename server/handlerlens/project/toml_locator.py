"""Where keys and values sit in a TOML text that `tomllib` has already accepted.

`tomllib` gives values but no positions; diagnostics and quick fixes need the exact source
range of a key or a string's text. This scanner walks the (known-valid) text once and records
the offsets of every key/value under its full path, e.g.
`("tool", "handlerlens", "functions", 0, "entry")`. It never decides validity, and on text
it does not expect it stops quietly with what it found so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlerlens.project.toml_compat import TOMLDecodeError, loads

TomlPath = tuple[str | int, ...]

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}#\r\n")


@dataclass(frozen=True)
class TomlEntry:
    """Offsets of one key and its value (`inner_*`: a string's text inside its quotes)."""

    key_start: int
    key_end: int
    value_start: int
    value_end: int
    inner_start: int
    inner_end: int


@dataclass
class TomlLocations:
    """Every key/value and table header found, by path."""

    entries: dict[TomlPath, TomlEntry] = field(default_factory=dict)
    tables: dict[TomlPath, tuple[int, int]] = field(default_factory=dict)


class _Stop(Exception):
    pass


def locate(text: str) -> TomlLocations:
    """Scan a valid TOML text for the positions of its keys and values."""
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (_Stop, IndexError, TOMLDecodeError, RecursionError):
        pass
    return scanner.found


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.found = TomlLocations()
        self.arrays: dict[TomlPath, int] = {}

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.text[j] if j < len(self.text) else ""

    def skip_space(self, newlines: bool) -> None:
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch in " \t" or (newlines and ch in "\r\n"):
                self.i += 1
            elif ch == "#":
                while self.i < len(self.text) and self.text[self.i] not in "\r\n":
                    self.i += 1
            else:
                return

    def document(self) -> None:
        table: TomlPath = ()
        while True:
            self.skip_space(newlines=True)
            if self.i >= len(self.text):
                return
            start = self.i
            if self.text.startswith("[[", self.i):
                self.i += 2
                keys = self.keys()
                self.expect("]]")
                parent = self.resolve(keys[:-1]) + (keys[-1],)
                index = self.arrays.get(parent, -1) + 1
                self.arrays[parent] = index
                table = parent + (index,)
                self.found.tables[table] = (start, self.i)
            elif self.peek() == "[":
                self.i += 1
                keys = self.keys()
                self.expect("]")
                table = self.resolve(keys)
                self.found.tables[table] = (start, self.i)
            else:
                self.keyval(table)

    def resolve(self, keys: list[str]) -> TomlPath:
        """A header's path, with the current index of every array of tables in it."""
        path: TomlPath = ()
        for key in keys:
            path += (key,)
            if path in self.arrays:
                path += (self.arrays[path],)
        return path

    def expect(self, token: str) -> None:
        self.skip_space(newlines=False)
        if not self.text.startswith(token, self.i):
            raise _Stop
        self.i += len(token)

    def keys(self) -> list[str]:
        keys = [self.key()]
        self.skip_space(newlines=False)
        while self.peek() == ".":
            self.i += 1
            keys.append(self.key())
            self.skip_space(newlines=False)
        return keys

    def key(self) -> str:
        self.skip_space(newlines=False)
        start = self.i
        if self.peek() in ('"', "'"):
            self.string()
            # tomllib decodes the quoted key exactly as it did for the whole document.
            return str(loads(f"k = {self.text[start : self.i]}")["k"])
        while self.peek() and self.peek() in _BARE:
            self.i += 1
        if self.i == start:
            raise _Stop
        return self.text[start : self.i]

    def keyval(self, table: TomlPath) -> None:
        key_start = self.i
        keys = self.keys()
        key_end = self.i
        while key_end > key_start and self.text[key_end - 1] in " \t":
            key_end -= 1
        self.expect("=")
        self.skip_space(newlines=False)
        self.value(table + tuple(keys), key_start, key_end)

    def value(self, path: TomlPath, key_start: int, key_end: int) -> None:
        start = self.i
        inner: tuple[int, int] | None = None
        ch = self.peek()
        if ch in ('"', "'"):
            inner = self.string()
        elif ch == "[":
            self.array(path)
        elif ch == "{":
            self.inline_table(path)
        else:
            while self.peek() and self.peek() not in _SCALAR_END:
                self.i += 1
            while self.i > start and self.text[self.i - 1] in " \t":
                self.i -= 1
            if self.i == start:
                raise _Stop
        inner_start, inner_end = inner if inner is not None else (start, self.i)
        self.found.entries[path] = TomlEntry(
            key_start, key_end, start, self.i, inner_start, inner_end
        )

    def string(self) -> tuple[int, int]:
        quote = self.peek()
        if self.text.startswith(quote * 3, self.i):
            self.i += 3
            inner_start = self.i
            end = self._find(quote * 3, escapes=quote == '"')
            # Up to two quotes may close the text itself: `""""` ends with one in the value.
            while self.text.startswith(quote * 4, end):
                end += 1
            self.i = end + 3
            return inner_start, end
        self.i += 1
        inner_start = self.i
        end = self._find(quote, escapes=quote == '"')
        self.i = end + 1
        return inner_start, end

    def _find(self, closing: str, escapes: bool) -> int:
        j = self.i
        while j < len(self.text):
            if escapes and self.text[j] == "\\":
                j += 2
                continue
            if self.text.startswith(closing, j):
                return j
            j += 1
        raise _Stop

    def array(self, path: TomlPath) -> None:
        self.i += 1
        index = 0
        while True:
            self.skip_space(newlines=True)
            if self.peek() == "]":
                self.i += 1
                return
            item_start = self.i
            self.value(path + (index,), item_start, item_start)
            index += 1
            self.skip_space(newlines=True)
            if self.peek() == ",":
                self.i += 1
            elif self.peek() != "]":
                raise _Stop

    def inline_table(self, path: TomlPath) -> None:
        self.i += 1
        while True:
            self.skip_space(newlines=True)
            if self.peek() == "}":
                self.i += 1
                return
            self.keyval(path)
            self.skip_space(newlines=True)
            if self.peek() == ",":
                self.i += 1
            elif self.peek() != "}":
                raise _Stop
