"""The standard library of each Python version, as data.

`sys.stdlib_module_names` describes only the interpreter HandlerLens runs on, so the modules a
version added or removed are listed here, by version, with their source:

- removed: cpython Doc/whatsnew/3.9.rst … 3.13.rst ("Removed" sections); 3.12 and 3.13 also in
  PLATFORMS.md §11.3 (github.com/python/cpython/pull/109159, pull/110993; PEP 594).
- added: cpython Doc/whatsnew/3.9.rst (zoneinfo, graphlib), 3.11.rst (tomllib), 3.14.rst
  (annotationlib, compression).
"""

from __future__ import annotations

import sys
from functools import cache

Version = tuple[int, int]

# Version → top-level modules that version no longer has.
REMOVED_IN: dict[Version, frozenset[str]] = {
    (3, 9): frozenset({"_dummy_thread", "dummy_threading"}),
    (3, 10): frozenset({"formatter", "parser", "symbol", "_peg_parser"}),
    (3, 11): frozenset({"binhex"}),
    (3, 12): frozenset({"asynchat", "asyncore", "distutils", "imp", "smtpd"}),
    (3, 13): frozenset(
        {
            "aifc",
            "audioop",
            "cgi",
            "cgitb",
            "chunk",
            "crypt",
            "imghdr",
            "mailcap",
            "msilib",
            "nis",
            "nntplib",
            "ossaudiodev",
            "pipes",
            "sndhdr",
            "spwd",
            "sunau",
            "telnetlib",
            "uu",
            "xdrlib",
            "lib2to3",
        }
    ),
}

# Version → top-level modules that version added (public ones; older versions lack them).
ADDED_IN: dict[Version, frozenset[str]] = {
    (3, 9): frozenset({"zoneinfo", "graphlib", "_peg_parser"}),
    (3, 11): frozenset({"tomllib"}),
    (3, 14): frozenset({"annotationlib", "compression"}),
}

# A package on PyPI still provides a removed module (the removal notes name them).
REPLACEMENTS: dict[str, str] = {
    "distutils": "setuptools",
    "imp": "importlib",
    "asynchat": "asyncio",
    "asyncore": "asyncio",
    "smtpd": "aiosmtpd",
    "cgi": "legacy-cgi",
    "cgitb": "legacy-cgi",
    "crypt": "crypt-r",
    "telnetlib": "telnetlib3",
    "imghdr": "filetype",
    "pipes": "shlex",
    "lib2to3": "parso",
}
# Of those, the ones whose package installs a module of the same name.
SAME_NAME_PACKAGES: dict[str, str] = {
    "distutils": "setuptools",
    "cgi": "legacy-cgi",
    "cgitb": "legacy-cgi",
}


@cache
def _all_known() -> frozenset[str]:
    # (kept: `is_stdlib_somewhere` asks it for every import the runtime's stdlib lacks)
    names = set(sys.stdlib_module_names)
    for group in (*REMOVED_IN.values(), *ADDED_IN.values()):
        names |= group
    return frozenset(names)


@cache
def stdlib_modules(version: Version) -> frozenset[str]:
    """Top-level standard-library module names of Python `version`."""
    names = set(_all_known())
    for removed_at, group in REMOVED_IN.items():
        if removed_at <= version:
            names -= group
    for added_at, group in ADDED_IN.items():
        if added_at > version:
            names -= group
    return frozenset(names)


def removed_in(module: str, version: Version) -> Version | None:
    """The version up to `version` that removed the top-level `module`, or None."""
    for removed_at, group in sorted(REMOVED_IN.items()):
        if removed_at <= version and module in group:
            return removed_at
    return None


def is_stdlib_somewhere(module: str) -> bool:
    """Whether any Python version HandlerLens knows has `module` in its standard library."""
    return module in _all_known()
