"""The HCL2 parse tables are cached where any install of the same versions finds them (issue
#21: a first start built them anew, 1-2 s, as Lark's own cache key holds install paths)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import hcl2
import pytest

from handlerlens.project import hcl_tree

GRAMMAR = Path(hcl2.parser.__file__).with_name("hcl2.lark")
TERRAFORM = 'resource "yandex_function" "f" {\n  entrypoint = "main.handler"\n}\n'


def test_the_parser_reads_as_python_hcl2_does() -> None:
    text = Path(__file__).resolve().parents[2].joinpath("examples", "greeter", "main.tf")
    source = text.read_text()
    assert hcl_tree.parser().parse(source + "\n") == hcl2.parses_to_tree(source)


def test_tables_saved_in_one_place_are_loaded_from_a_copy_elsewhere(tmp_path: Path) -> None:
    first = tmp_path / "a" / "tables.cache"
    first.parent.mkdir()
    built = hcl_tree.build_parser(GRAMMAR.read_text(), str(first))
    assert first.exists()
    elsewhere = tmp_path / "b" / "tables.cache"
    elsewhere.parent.mkdir()
    shutil.copy(first, elsewhere)
    before = elsewhere.stat().st_mtime_ns
    loaded = hcl_tree.build_parser(GRAMMAR.read_text(), str(elsewhere))
    assert elsewhere.stat().st_mtime_ns == before  # read, not built and written again
    assert loaded.parse(TERRAFORM) == built.parse(TERRAFORM)
    assert not list(elsewhere.parent.glob("*.tmp"))


def test_tables_for_another_grammar_are_built_anew(tmp_path: Path) -> None:
    cache = tmp_path / "tables.cache"
    hcl_tree.build_parser(GRAMMAR.read_text(), str(cache))
    first_line = cache.read_bytes().split(b"\n", 1)[0]
    changed = GRAMMAR.read_text() + "\n// another grammar\n"
    parser = hcl_tree.build_parser(changed, str(cache))
    assert cache.read_bytes().split(b"\n", 1)[0] != first_line
    assert parser.parse(TERRAFORM).data == "start"


def test_a_broken_cache_file_is_replaced(tmp_path: Path) -> None:
    cache = tmp_path / "tables.cache"
    cache.write_bytes(b"garbage\n\x00\x01")
    parser = hcl_tree.build_parser(GRAMMAR.read_text(), str(cache))
    assert parser.parse(TERRAFORM).data == "start"
    assert cache.read_bytes() != b"garbage\n\x00\x01"


def test_a_read_only_install_caches_in_the_users_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install = tmp_path / "site-packages" / "hcl2"
    install.mkdir(parents=True)
    # A folder this user cannot write (checked with os.access; root may write anywhere).
    monkeypatch.setattr(hcl_tree.os, "access", lambda path, mode: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    where = Path(hcl_tree.cache_file(install))
    assert where.parent == tmp_path / "cache" / "handlerlens"
    assert where.parent.is_dir()
    assert where.name == f"handlerlens-hcl2-lalr-py{sys.version_info[0]}{sys.version_info[1]}.cache"


def test_a_writable_install_keeps_the_cache_beside_the_grammar(tmp_path: Path) -> None:
    assert Path(hcl_tree.cache_file(tmp_path)).parent == tmp_path


def test_a_fresh_process_reads_terraform_with_the_saved_tables(tmp_path: Path) -> None:
    # The cache file of this install exists after one parse; a new server process loads it.
    hcl_tree.parser()
    cache = Path(hcl_tree.cache_file(GRAMMAR.parent))
    assert cache.exists()
    before = cache.stat().st_mtime_ns
    script = (
        "from handlerlens.project.hcl_tree import parse_hcl\n"
        f"print(parse_hcl({TERRAFORM!r})[0].labels)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['yandex_function', 'f']"
    assert cache.stat().st_mtime_ns == before
