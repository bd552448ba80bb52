"""The parse cache `check` keeps on disk: the same results, reused only while still true."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import pytest

from handlerlens.project import discovery, parse_cache, parsed_files, terraform_fork
from handlerlens.project.discovery import ProjectModel

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"

SAM = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.12
"""

TERRAFORM = """data "archive_file" "code" {
  type        = "zip"
  source_dir  = "${path.module}/code"
  output_path = "${path.module}/build/code.zip"
}

resource "aws_lambda_function" "fn" {
  function_name = "fn"
  handler       = var.handler
  runtime       = "python3.12"
  filename      = data.archive_file.code.output_path
}
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _forget_in_memory() -> None:
    """A new `check` process: nothing parsed in memory yet."""
    parsed_files._parsed.items.clear()
    parsed_files._terraform_files.items.clear()


def _discover(root: Path, cache_dir: Path) -> tuple[ProjectModel, parse_cache.ParseCache]:
    _forget_in_memory()
    with parse_cache.using(str(root), str(cache_dir)) as cache:
        model = discovery.discover(str(root))
    return model, cache


def _summary(model: ProjectModel) -> tuple[object, object]:
    return sorted(model.functions, key=repr), sorted(model.problems, key=repr)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    _write(
        root,
        {
            "sam/template.yaml": SAM,
            "sam/src/app.py": HANDLER,
            "tf/main.tf": TERRAFORM,
            "tf/variables.tf": 'variable "handler" {\n  default = "app.handler"\n}\n',
            "tf/code/app.py": HANDLER,
            "guessed/main.py": "import boto3\n\n\n" + HANDLER,
        },
    )
    return root


def test_a_second_run_reads_every_result_from_the_cache_and_finds_the_same(
    project: Path, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    _forget_in_memory()
    plain = discovery.discover(str(project))
    first, cold = _discover(project, cache_dir)
    # The template, main.tf's module calls (it says `path.module`), the module, main.py.
    assert (cold.hits, cold.misses) == (0, 4)
    assert [p.name for p in cache_dir.iterdir()] == [os.path.basename(cold.path)]
    second, warm = _discover(project, cache_dir)
    assert (warm.hits, warm.misses) == (4, 0)
    assert _summary(first) == _summary(second) == _summary(plain)
    names = sorted(spec.name for spec in second.functions)
    assert names == ["Fn", "fn", "guessed/main.handler"]
    guessed = next(s for s in second.functions if s.declared_by == "heuristic")
    assert (guessed.platform, guessed.platform_known) == ("aws", True)


def test_a_changed_file_or_a_changed_fact_is_read_again(project: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    _discover(project, cache_dir)
    # The handler's value is in variables.tf, a file of the module: its text is in the key.
    (project / "tf/variables.tf").write_text('variable "handler" {\n  default = "app.main"\n}\n')
    # The template's code folder goes away: a fact its reading looked at.
    (project / "sam/src/app.py").rename(project / "sam/app.py")
    (project / "sam/src").rmdir()
    model, cache = _discover(project, cache_dir)
    assert cache.misses == 2 and cache.hits == 2
    by_name = {spec.name: spec for spec in model.functions}
    assert by_name["fn"].entry == "app.main"
    assert [p.code for p in model.problems if p.path.endswith("template.yaml")] == [
        "code-root-missing"
    ]


def test_a_zip_that_appears_or_changes_is_read_again(tmp_path: Path) -> None:
    root, cache_dir = tmp_path / "repo", tmp_path / "cache"
    text = TERRAFORM.replace("data.archive_file.code.output_path", '"dist/fn.zip"')
    _write(root, {"main.tf": text.replace("var.handler", '"app.handler"')})
    model, _ = _discover(root, cache_dir)
    (problem,) = model.problems
    assert "not there yet" in problem.message
    (root / "dist").mkdir()
    with zipfile.ZipFile(root / "dist/fn.zip", "w") as archive:
        archive.writestr("app.py", HANDLER)
    model, cache = _discover(root, cache_dir)
    assert cache.misses == 1 and model.problems == []
    (spec,) = model.functions
    assert spec.packed is not None and spec.packed.names == frozenset({"app.py"})
    with zipfile.ZipFile(root / "dist/fn.zip", "w") as archive:
        archive.writestr("other.py", HANDLER)
        archive.writestr("lib/__init__.py", "")
    os.utime(root / "dist/fn.zip", ns=(1, 1))  # a new stamp even on a coarse clock
    model, cache = _discover(root, cache_dir)
    assert cache.misses == 1
    (spec,) = model.functions
    assert spec.packed is not None and spec.packed.names == frozenset(
        {"other.py", "lib/__init__.py"}
    )


def test_a_called_local_module_that_changed_is_read_again(tmp_path: Path) -> None:
    root, cache_dir = tmp_path / "repo", tmp_path / "cache"
    module = (
        'resource "aws_lambda_function" "fn" {\n  function_name = "fn"\n'
        '  handler = "%s"\n  runtime = "python3.12"\n}\n'
    )
    _write(
        root,
        {
            "main.tf": 'module "api" {\n  source = "./modules/fn"\n}\n',
            "modules/fn/main.tf": module % "app.handler",
        },
    )
    model, _ = _discover(root, cache_dir)
    assert [s.entry for s in model.functions] == ["app.handler"]
    (root / "modules/fn/main.tf").write_text(module % "app.other")
    os.utime(root / "modules/fn/main.tf", ns=(1, 1))
    model, _ = _discover(root, cache_dir)
    assert [s.entry for s in model.functions] == ["app.other"]
    # A new file in the module's folder counts too.
    (root / "modules/fn/extra.tf").write_text(
        (module % "extra.handler").replace('"fn"', '"fn2"', 2)
    )
    model, _ = _discover(root, cache_dir)
    assert sorted(s.entry for s in model.functions) == ["app.other", "extra.handler"]


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle at all", pickle.dumps(("another fingerprint", {"k": "v"})), b"\x80\x05"],
)
def test_a_corrupt_or_foreign_cache_file_is_ignored_and_rewritten(
    project: Path, tmp_path: Path, content: bytes
) -> None:
    cache_dir = tmp_path / "cache"
    first, cache = _discover(project, cache_dir)
    Path(cache.path).write_bytes(content)
    again, cache = _discover(project, cache_dir)
    assert cache.hits == 0 and cache.misses == 4
    assert _summary(again) == _summary(first)
    with open(cache.path, "rb") as handle:
        fingerprint, entries = pickle.load(handle)
    assert fingerprint == cache.fingerprint and len(entries) == 4


def test_only_the_entries_a_run_used_are_kept(project: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    _, cache = _discover(project, cache_dir)
    (project / "guessed/main.py").unlink()
    _, cache = _discover(project, cache_dir)
    with open(cache.path, "rb") as handle:
        _, entries = pickle.load(handle)
    assert len(entries) == 3
    # Nothing new and nothing unused: the file is not written again.
    before = os.stat(cache.path).st_mtime_ns
    os.utime(cache.path, ns=(1, 1))
    _discover(project, cache_dir)
    assert os.stat(cache.path).st_mtime_ns == 1 != before


def test_an_unwritable_cache_folder_is_not_an_error(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    model, _ = _discover(project, blocker / "cache")  # a folder below a file: cannot exist
    assert len(model.functions) == 3


def test_old_cache_files_and_leftover_temporary_files_are_removed(
    project: Path, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    old, recent, leftover = (cache_dir / n for n in ("old.pickle", "recent.pickle", ".tmp-x"))
    for path in (old, recent, leftover):
        path.write_bytes(b"x")
    os.utime(old, (0, 0))
    os.utime(leftover, (0, 0))
    _discover(project, cache_dir)
    assert old.exists() is False and leftover.exists() is False and recent.exists()


def test_without_the_cache_nothing_is_kept() -> None:
    assert parse_cache.active() is None


def test_a_cold_check_reads_terraform_in_a_child_with_the_same_results(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlerlens.project import forked

    if not forked.available():
        pytest.skip("fork on a second core: Linux with two cores or more")
    _forget_in_memory()
    plain = discovery.discover(str(project))
    monkeypatch.setattr(terraform_fork, "_FORK_TERRAFORM_CHARS", 0)
    monkeypatch.setattr(forked, "checking", True)  # as the check command
    children: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    cold, cache = _discover(project, tmp_path / "cache")
    assert len(children) == 1  # empty cache: the Terraform modules were read by a child
    assert _summary(cold) == _summary(plain)
    assert cold.config_files == plain.config_files  # the .tf files the child read included
    assert any(path.endswith("main.tf") for path in cold.config_files)
    # The child's cache entries came back: the next run reuses every result, forks nothing.
    warm, cache = _discover(project, tmp_path / "cache")
    assert (cache.hits, cache.misses, len(children)) == (4, 0, 1)
    assert _summary(warm) == _summary(plain)


def test_a_child_that_fails_leaves_the_work_to_the_parent() -> None:
    from handlerlens.project import forked

    if not forked.available():
        pytest.skip("fork on a second core: Linux with two cores or more")
    parent = os.getpid()

    def crashing() -> str:
        if os.getpid() != parent:
            os._exit(3)  # a crash in the child
        return "computed here"

    def raising() -> str:
        if os.getpid() != parent:
            raise RuntimeError("a bug in the child")
        return "computed here"

    def unpicklable() -> object:
        return (lambda: None) if os.getpid() != parent else "computed here"

    for compute in (crashing, raising, unpicklable):
        assert forked.Forked(compute).result() == "computed here"
    assert forked.Forked(lambda: os.getpid()).result() != parent  # the child's own answer


def test_discovery_forks_only_for_the_check_command(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terraform_fork, "_FORK_TERRAFORM_CHARS", 0)

    def no_fork() -> int:
        raise AssertionError("forked outside the check command")

    monkeypatch.setattr(os, "fork", no_fork)
    model, _ = _discover(project, tmp_path / "cache")  # the cache on, but not `check`
    assert len(model.functions) == 3


def test_a_damaged_entry_is_computed_again_and_rewritten(project: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    first, cache = _discover(project, cache_dir)
    with open(cache.path, "rb") as handle:
        fingerprint, entries = pickle.load(handle)
    damaged = dict.fromkeys(entries, "not an entry")
    damaged[next(iter(entries))] = (None, [("stamp", None, object)])  # a fact that cannot be asked
    with open(cache.path, "wb") as handle:
        pickle.dump((fingerprint, damaged), handle)
    again, cache = _discover(project, cache_dir)
    assert (cache.hits, cache.misses) == (0, 4)
    assert _summary(again) == _summary(first)
    with open(cache.path, "rb") as handle:
        assert pickle.load(handle)[1] == entries
