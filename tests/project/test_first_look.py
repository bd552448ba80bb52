"""The language server's first look at the files an editor has open (issue #21): the declaring
files in their folders and above, read before the whole workspace (`discover(near=…)`)."""

from __future__ import annotations

from pathlib import Path

from handlerlens.engine.workspace import WorkspaceState
from handlerlens.project import discover
from handlerlens.project.walk import walk_near

SAM = """Transform: AWS::Serverless-2016-10-31
Resources:
{functions}"""
FUNCTION = """  {name}:
    Type: AWS::Serverless::Function
    Properties: {{Runtime: python3.12, CodeUri: {code}, Handler: {handler}}}
"""
HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


def _sam(path: Path, *functions: tuple[str, str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(FUNCTION.format(name=n, code=c, handler=h) for n, c, h in functions)
    path.write_text(SAM.format(functions=body))


def _tree(root: Path) -> Path:
    """A root template declaring two functions under services/, a template in another folder
    (broken on purpose), and a lone handler elsewhere; returns services/a/app.py."""
    _sam(
        root / "template.yaml",
        ("A", "services/a", "app.handler"),
        ("B", "services/b", "app.handler"),
    )
    for name in ("a", "b"):
        (root / "services" / name).mkdir(parents=True)
        (root / "services" / name / "app.py").write_text(HANDLER)
    _sam(root / "other" / "template.yaml", ("C", ".", "main.handlr"))
    (root / "other" / "main.py").write_text(HANDLER)
    (root / "tools").mkdir()
    (root / "tools" / "index.py").write_text(HANDLER)
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / "node_modules" / "x" / "template.yaml").write_text("")
    return root / "services" / "a" / "app.py"


def test_walk_near_lists_the_declaring_files_in_the_folders_above_only(tmp_path: Path) -> None:
    opened = _tree(tmp_path)
    (opened.parent / "serverless.yml").write_text("service: a\n")
    skipped = tmp_path / "node_modules" / "x" / "mod.py"
    candidates, python_files = walk_near(str(tmp_path), [str(opened), str(skipped)])
    assert candidates == [str(opened.parent / "serverless.yml"), str(tmp_path / "template.yaml")]
    assert python_files == [str(opened)]  # the one in a skipped folder is not looked at


def test_walk_near_adds_an_unsaved_declaring_buffer_beside_the_file(tmp_path: Path) -> None:
    opened = _tree(tmp_path)
    unsaved = opened.parent / "pyproject.toml"
    candidates, _ = walk_near(str(tmp_path), [str(opened)], {str(unsaved): "[project]\n"})
    assert str(unsaved) in candidates


def test_discover_near_reads_no_declaring_file_elsewhere_and_guesses_nothing(
    tmp_path: Path,
) -> None:
    opened = _tree(tmp_path)
    near = discover(str(tmp_path), near=[str(opened), str(tmp_path / "tools" / "index.py")])
    assert sorted(f.name for f in near.functions) == ["A", "B"]
    assert near.config_files == [str(tmp_path / "template.yaml")]
    assert not near.problems  # other/template.yaml's misspelt handler is not read yet
    whole = discover(str(tmp_path))
    assert sorted(f.name for f in whole.functions if f.declared_by != "heuristic") == [
        "A",
        "B",
        "C",
    ]


def test_discover_near_guesses_nothing(tmp_path: Path) -> None:
    # A lone handler-shaped file: the whole walk guesses it is a function; the first look
    # leaves guessing to the whole walk (a declaring file elsewhere may cover the file).
    lone = tmp_path / "fn" / "index.py"
    lone.parent.mkdir()
    lone.write_text(HANDLER)
    assert [f.declared_by for f in discover(str(tmp_path)).functions] == ["heuristic"]
    assert discover(str(tmp_path), near=[str(lone)]).functions == []


def test_first_look_validates_the_open_files_functions_and_finds_their_problems(
    tmp_path: Path,
) -> None:
    opened = _tree(tmp_path)
    opened.write_text("def handler(event):\n    return 1\n")  # handler-arity, on app.py
    state = WorkspaceState(str(tmp_path))
    state.discover_near([str(opened)])
    assert not state.discovered
    assert [r.spec.name for r in state.reports] == ["A"]  # B's handler is in another file
    assert [s.spec.name for s in state.handlers_in(str(opened))] == ["A"]
    problems = state.problems_by_path()
    assert [p.code for p in problems[str(opened)]] == ["handler-arity"]
    # The whole workspace agrees on app.py, and adds what the first look did not read.
    state.discover()
    assert state.discovered
    whole = state.problems_by_path()
    assert [p.code for p in whole[str(opened)]] == ["handler-arity"]
    assert [p.code for p in whole[str(tmp_path / "other" / "template.yaml")]] == [
        "entry-point-function-missing"
    ]


def test_first_look_finds_a_handler_in_a_package_init(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    init = tmp_path / "pkg" / "__init__.py"
    init.write_text(HANDLER)
    _sam(tmp_path / "template.yaml", ("P", ".", "pkg.handler"))
    state = WorkspaceState(str(tmp_path))
    state.discover_near([str(init)])
    assert [s.spec.name for s in state.handlers_in(str(init))] == ["P"]
