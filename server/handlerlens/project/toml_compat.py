"""`tomllib` on Python 3.11+, its backport `tomli` on 3.10."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from tomllib import TOMLDecodeError, loads
else:
    # tomli is installed only on 3.10 (see pyproject), so mypy may not find it elsewhere.
    from tomli import TOMLDecodeError, loads  # type: ignore[import-not-found,unused-ignore]

__all__ = ["TOMLDecodeError", "loads"]
