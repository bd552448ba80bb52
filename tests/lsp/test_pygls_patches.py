"""The pygls patches name their pygls version and refuse another one at start-up, loudly."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pygls
import pytest

from handlerlens.lsp.pygls_patches import (
    WRITTEN_AGAINST,
    PyglsVersionError,
    check_pygls_version,
    installed_pygls_version,
)


def test_the_installed_pygls_is_the_one_the_patches_were_written_against() -> None:
    assert installed_pygls_version() == importlib.metadata.version("pygls")
    check_pygls_version(installed_pygls_version())
    assert WRITTEN_AGAINST.split(".")[:2] == installed_pygls_version().split(".")[:2]


@pytest.mark.parametrize("installed", ["2.1.0", "2.1.1", "2.1.17"])
def test_a_patch_release_of_the_same_minor_is_accepted(installed: str) -> None:
    check_pygls_version(installed, written_against="2.1.1")


@pytest.mark.parametrize("installed", ["2.2.0", "3.0.0", "1.3.1", "2.10.1"])
def test_another_major_or_minor_is_refused_with_what_to_install(installed: str) -> None:
    with pytest.raises(PyglsVersionError) as caught:
        check_pygls_version(installed, written_against="2.1.1")
    message = str(caught.value)
    assert f"pygls {installed} is installed" in message
    assert "written against pygls 2.1.1" in message
    assert "pygls~=2.1.0" in message


def test_handlerlens_lsp_on_another_pygls_exits_at_once_with_one_clear_line(
    tmp_path: Path,
) -> None:
    # A real pygls package (a copy of the installed one) whose distribution says 2.2.0, first
    # on the path: the server must refuse it before reading any message.
    shutil.copytree(Path(pygls.__file__).parent, tmp_path / "pygls")
    dist = tmp_path / "pygls-2.2.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pygls\nVersion: 2.2.0\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "handlerlens", "lsp"],
        env=env,
        stdin=subprocess.DEVNULL,  # a server that started would exit 0 on this end of input
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    # The line VS Code shows: its crash report quotes the last line that starts `…Error:`.
    assert re.match(r"^\w+(\.\w+)*(Error|Exception|Exit)\b", lines[0])
    assert lines[0].startswith("PyglsVersionError: HandlerLens' language server ")
    assert "pygls 2.2.0 is installed" in lines[0]
    assert "pygls~=2.1.0" in lines[0]
