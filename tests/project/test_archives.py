"""Reading a deployment zip's name list without unpacking it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from handlerlens.project.archives import module_in_names, python_modules, zip_names


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def test_zip_names_lists_members(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "code.zip", {"index.py": "", "pkg/__init__.py": "", "pkg/m.py": ""})
    assert zip_names(str(archive)) == {"index.py", "pkg/__init__.py", "pkg/m.py"}


def test_zip_names_is_none_for_a_missing_or_broken_archive(tmp_path: Path) -> None:
    assert zip_names(str(tmp_path / "absent.zip")) is None
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    assert zip_names(str(broken)) is None
    assert zip_names(str(tmp_path)) is None


def test_module_in_names_finds_files_and_packages() -> None:
    names = frozenset({"index.py", "pkg/__init__.py", "pkg/app/__init__.py", "fast.cpython-312.so"})
    assert module_in_names(names, "index") == "index.py"
    assert module_in_names(names, "pkg/app") == "pkg/app/__init__.py"
    assert module_in_names(names, "fast") == "fast.cpython-312.so"
    assert module_in_names(names, "main") is None


def test_python_modules_names_top_level_modules() -> None:
    names = frozenset({"index.py", "lib/__init__.py", "lib/x.py", "README.md", "deep/a/b.py"})
    assert python_modules(names) == ["index", "lib"]
