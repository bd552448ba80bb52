"""Which files of a shared code root a function reaches (runner/code_reach.py): what decides
that a save reloads one function of an app and leaves the others warm."""

from __future__ import annotations

from pathlib import Path

from handlerlens.runner.code_reach import reached_files


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def names(root: Path, found: set[str] | None) -> set[str] | None:
    if found is None:
        return None
    return {str(Path(p).relative_to(root)) for p in found}


def test_imports_are_followed_through_packages_and_relative_imports(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": "import lib.db\nfrom lib import cache\n",
            "lib/__init__.py": "",
            "lib/db.py": "from .models import Item\n",
            "lib/models.py": "import json\nItem = 1\n",
            "lib/cache.py": "from . import util\n",
            "lib/util.py": "",
            "other.py": "",
            "lib/unused.py": "",
        },
    )
    assert names(tmp_path, reached_files(str(tmp_path), "app.handler")) == {
        "app.py",
        "lib/__init__.py",
        "lib/db.py",
        "lib/models.py",
        "lib/cache.py",
        "lib/util.py",
    }


def test_a_handler_in_a_package_reaches_the_packages_init(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "import shared\n", "pkg/app.py": "", "shared.py": ""})
    assert names(tmp_path, reached_files(str(tmp_path), "pkg.app.handler")) == {
        "pkg/__init__.py",
        "pkg/app.py",
        "shared.py",
    }


def test_unsure_is_none(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "dynamic.py": "import importlib\nmod = importlib.import_module('x')\n",
            # An import that does not parse: what it imports cannot be told.
            "broken.py": "from lib import (a,\n",
            "uses_broken.py": "import broken\n",
            "vendored.py": "import sys\nsys.path.insert(0, 'vendor')\nimport thing\n",
        },
    )
    assert reached_files(str(tmp_path), "dynamic.handler") is None
    assert reached_files(str(tmp_path), "uses_broken.handler") is None
    assert reached_files(str(tmp_path), "missing.handler") is None
    assert reached_files(str(tmp_path), "vendored.handler") is None
