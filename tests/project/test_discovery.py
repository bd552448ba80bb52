"""Walking a workspace: open buffers, skipped directories, bounds, speed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from handlerlens.project import discover
from handlerlens.project.walk import MAX_DEPTH
from tests.project.conftest import fixture

SAM = (
    "AWSTemplateFormatVersion: '2010-09-09'\n"
    "Resources:\n"
    "  Fn:\n"
    "    Type: AWS::Serverless::Function\n"
    "    Properties: {{Handler: {entry}, Runtime: python3.12}}\n"
)


def test_an_unsaved_buffer_replaces_the_file_on_disk(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(SAM.format(entry="app.handler"))
    model = discover(str(tmp_path), overlays={str(template): SAM.format(entry="app.edited")})
    assert [f.entry for f in model.functions] == ["app.edited"]
    assert [f.entry for f in discover(str(tmp_path)).functions] == ["app.handler"]


def test_an_unsaved_new_file_is_discovered(tmp_path: Path) -> None:
    new = tmp_path / "sub" / "serverless.yml"
    text = "provider: {name: aws, runtime: python3.12}\nfunctions:\n  f: {handler: main.f}\n"
    model = discover(str(tmp_path), overlays={str(new): text})
    assert [(f.name, f.declared_in) for f in model.functions] == [("f", str(new))]
    assert model.config_files == [str(new)]


def test_an_unsaved_buffer_can_break_a_file(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(SAM.format(entry="app.handler"))
    model = discover(str(tmp_path), overlays={str(template): SAM.format(entry="[app")})
    assert model.functions == []
    assert [p.code for p in model.problems] == ["config-parse-error"]


def test_tool_and_dependency_directories_are_not_walked(tmp_path: Path) -> None:
    shutil.copytree(fixture("heuristic-yandex"), tmp_path / "w")
    root = tmp_path / "w"
    for skipped in (
        ".venv/lib",
        "venv",
        "node_modules/pkg",
        ".git",
        "__pycache__",
        ".terraform/modules",
        ".aws-sam/build/Fn",
        ".serverless",
        "cdk.out",
        ".idea",
    ):
        (root / skipped).mkdir(parents=True)
        (root / skipped / "main.py").write_text("def handler(event, context): pass\n")
        (root / skipped / "serverless.yml").write_text(
            "provider: {name: aws}\nfunctions:\n  hidden: {handler: main.handler}\n"
        )
    model = discover(str(root))
    assert model.config_files == []
    assert [f.name for f in model.functions] == [
        "main.handler",
        "main.render",
        "api/index.handler",
        "scripts/tool.on_upload_handler",
    ]


def test_big_and_binary_declaring_files_are_skipped_silently(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\nfunctions:\n  f: {handler: main.f}\n"
        + "#" * 1_100_000
    )
    (tmp_path / "main.tf").write_bytes(b'resource "yandex_function" "f" {\x00\xff}')
    model = discover(str(tmp_path))
    assert (model.functions, model.problems, model.config_files) == ([], [], [])


def test_generated_terraform_past_its_bound_is_skipped_silently(tmp_path: Path) -> None:
    function = Path(fixture("terraform-aws"), "lambda.tf").read_text()
    (tmp_path / "generated.tf").write_text(function + "# padding\n" * 30_000)
    (tmp_path / "small.tf").write_text(function.replace('"ingest"', '"small"'))
    model = discover(str(tmp_path))
    assert model.config_files == [str(tmp_path / "small.tf")]
    assert [p.code for p in model.problems] == ["code-root-missing"]  # its lambda/ dir


def test_the_walk_stops_at_its_depth_bound(tmp_path: Path) -> None:
    shallow = tmp_path / "a"
    deep = tmp_path.joinpath(*["d"] * (MAX_DEPTH + 2))
    for directory in (shallow, deep):
        directory.mkdir(parents=True)
        (directory / "serverless.yml").write_text(
            "provider: {name: aws, runtime: python3.12}\nfunctions:\n  f: {handler: main.f}\n"
        )
    assert discover(str(tmp_path)).config_files == [str(shallow / "serverless.yml")]


def test_a_missing_root_is_an_empty_model(tmp_path: Path) -> None:
    model = discover(str(tmp_path / "nope"))
    assert (model.functions, model.problems, model.config_files) == ([], [], [])


def _fifty_config_workspace(root: Path) -> None:
    for i in range(50):
        service = root / f"svc{i:02d}"
        (service / "src").mkdir(parents=True)
        (service / "src" / "main.py").write_text("def handler(event, context):\n    return 1\n")
        kind = i % 4
        if kind == 0:
            (service / "template.yaml").write_text(
                SAM.format(entry="main.handler").replace("Runtime:", "CodeUri: src, Runtime:")
            )
        elif kind == 1:
            (service / "serverless.yml").write_text(
                "provider: {name: yandex-cloud, runtime: python312}\n"
                "functions:\n  f:\n    handler: main.handler\n"
                "    events:\n      - cron: {expression: '* * * * ? *', account: sa}\n"
            )
        elif kind == 2:
            (service / "main.tf").write_text(
                Path(fixture("terraform-yandex"), "main.tf").read_text()
            )
        else:
            (service / "pyproject.toml").write_text(
                '[project]\nname = "x"\n[tool.handlerlens]\nentry = "main.handler"\nroot = "src"\n'
            )


def test_discovery_of_fifty_declaring_files_is_fast(tmp_path: Path) -> None:
    _fifty_config_workspace(tmp_path)
    started = time.perf_counter()
    cold = discover(str(tmp_path))
    cold_seconds = time.perf_counter() - started
    started = time.perf_counter()
    warm = discover(str(tmp_path))
    warm_seconds = time.perf_counter() - started
    assert len(cold.config_files) == 50
    assert len(cold.functions) == 13 + 13 + 2 * 12 + 12
    assert warm.functions == cold.functions
    # Generous bounds for a loaded CI machine; see the report for measured numbers.
    assert cold_seconds < 5.0
    assert warm_seconds < 1.0
    print(
        f"discover: 50 files cold {cold_seconds * 1000:.0f} ms, warm {warm_seconds * 1000:.0f} ms"
    )


def test_discovered_paths_are_absolute_and_normalised(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "provider: {name: aws, runtime: python3.12}\nfunctions:\n  f: {handler: main.f}\n"
    )
    relative = os.path.relpath(tmp_path)
    model = discover(relative + "/./")
    assert model.root == str(tmp_path)
    assert model.functions[0].root == str(tmp_path)
    assert model.config_files == [str(tmp_path / "serverless.yml")]


def test_the_walk_says_where_its_cap_stopped_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlerlens.project import walk

    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.txt").write_text("")
    monkeypatch.setattr(walk, "MAX_ENTRIES", 4)
    model = discover(str(tmp_path))
    (note,) = model.notes
    assert note.startswith(f"stopped reading {tmp_path} after 4 files and folders")
    assert f"in {tmp_path / 'b'}" in note
    monkeypatch.setattr(walk, "MAX_ENTRIES", 100)
    assert discover(str(tmp_path)).notes == []


def test_the_python_file_cap_is_said_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from handlerlens.project import walk

    for i in range(3):
        (tmp_path / f"m{i}.py").write_text("")
    monkeypatch.setattr(walk, "MAX_PYTHON_FILES", 3)
    assert discover(str(tmp_path)).notes == []
    monkeypatch.setattr(walk, "MAX_PYTHON_FILES", 2)
    (note,) = discover(str(tmp_path)).notes
    assert note.startswith("looked at the first 2 Python files")


def test_a_template_of_only_other_languages_is_listed_but_not_parsed(tmp_path: Path) -> None:
    # Its YAML is broken too: composing it would report a parse error about a Node template.
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Js:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: nodejs20.x, Handler: app.handler, Events: [\n"
    )
    model = discover(str(tmp_path))
    assert (model.functions, model.problems) == ([], [])
    assert model.config_files == [str(tmp_path / "template.yaml")]
    # Naming Python anywhere (here a second function) makes it a template to read.
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Js:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: nodejs20.x, Handler: app.handler}\n  Py:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: app.handler}\n"
    )
    assert [f.name for f in discover(str(tmp_path)).functions] == ["Py"]


def test_a_cached_parse_is_redone_when_a_file_it_looked_at_changes(tmp_path: Path) -> None:
    # The template's text stays the same; the build output it names appears, then its
    # handler module; each rediscovery sees the file system as it is now.
    (tmp_path / "template.yaml").write_text(
        SAM.format(entry="app.handler").replace("Runtime:", "CodeUri: dist/fn, Runtime:")
    )
    first = discover(str(tmp_path))
    assert (first.functions, [p.code for p in first.problems]) == ([], ["code-root-unresolved"])
    (tmp_path / "dist" / "fn").mkdir(parents=True)
    second = discover(str(tmp_path))
    assert [f.root for f in second.functions] == [str(tmp_path / "dist" / "fn")]
    assert second.problems == []


def test_a_file_past_the_size_limit_or_with_nul_bytes_is_not_read(tmp_path: Path) -> None:
    from handlerlens.project.walk import MAX_CONFIG_BYTES

    template = SAM.format(entry="app.handler")
    (tmp_path / "exact").mkdir()
    at_limit = template + "#" * (MAX_CONFIG_BYTES - len(template) - 1) + "\n"
    assert len(at_limit.encode()) == MAX_CONFIG_BYTES
    (tmp_path / "exact" / "template.yaml").write_text(at_limit)
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "template.yaml").write_text(at_limit + "#")
    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / "template.yaml").write_text(template + "# \x00\n")
    model = discover(str(tmp_path))
    assert [f.declared_in for f in model.functions] == [str(tmp_path / "exact" / "template.yaml")]
    assert model.config_files == [str(tmp_path / "exact" / "template.yaml")]
