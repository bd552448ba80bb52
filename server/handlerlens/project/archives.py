"""Archives that hold a function's code: the names of their members, without extracting."""

from __future__ import annotations

import zipfile


def zip_names(path: str) -> frozenset[str] | None:
    """The member file names of the zip at `path` (`/`-separated, directories left out), or
    None when there is no such file or it is not a readable zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            return frozenset(
                info.filename.lstrip("/") for info in archive.infolist() if not info.is_dir()
            )
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
