"""The quiet heuristic: handler-shaped functions in likely files, and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from handlerlens.project import discover, heuristic_functions
from tests.project.conftest import fixture

ROOT = "/w"


def _entries(source: str, name: str = "main.py", directory: str = ROOT) -> list[str]:
    path = os.path.join(directory, name)
    return [spec.entry for spec in heuristic_functions(path, source, ROOT, "yandex")]


@pytest.mark.parametrize(
    ("source", "entries"),
    [
        ("def handler(event, context): pass\n", ["main.handler"]),
        ("async def handler(event, context): pass\n", ["main.handler"]),
        ("def anything(evt, ctx): pass\n", ["main.anything"]),
        ("def h(_event, _context): pass\n", ["main.h"]),
        ("def h(request, _): pass\n", ["main.h"]),
        ("def h(e, ctx=None): pass\n", ["main.h"]),
        ("def h(e, c): pass\n", []),  # too vague a name to call it a context
        ("def h(http_event, lambda_context): pass\n", ["main.h"]),
        ("def h(event, context, /): pass\n", ["main.h"]),
        ("def h(event, context, *, debug=False): pass\n", ["main.h"]),
        ("def h(event, context, *, debug): pass\n", []),
        ("def h(event, context, extra): pass\n", []),
        ("def h(event, *args): pass\n", []),
        ("def h(self, event, context): pass\n", []),
        ("def h(a, b): pass\n", []),
        ("class C:\n    def handler(self, event, context): pass\n", []),
        ("if True:\n    def handler(event, context): pass\n", []),
        ("handler = lambda event, context: None\n", []),
    ],
)
def test_entry_files_offer_their_handler_shaped_top_level_functions(
    source: str, entries: list[str]
) -> None:
    assert _entries(source) == entries


@pytest.mark.parametrize(
    ("source", "entries"),
    [
        ("def handler(event, context): pass\n", ["tool.handler"]),
        ("def lambda_handler(event, context): pass\n", ["tool.lambda_handler"]),
        ("def on_upload_handler(event, context): pass\n", ["tool.on_upload_handler"]),
        ("def process(event, context): pass\n", []),
    ],
)
def test_other_files_offer_only_functions_named_like_handlers(
    source: str, entries: list[str]
) -> None:
    assert _entries(source, name="tool.py") == entries


@pytest.mark.parametrize(
    ("name", "directory"),
    [
        ("test_main.py", ROOT),
        ("main_test.py", ROOT),
        ("conftest.py", ROOT),
        ("main.py", "/w/tests"),
        ("main.py", "/w/pkg/test"),
    ],
)
def test_test_files_are_never_guessed_from(name: str, directory: str) -> None:
    assert _entries("def handler(event, context): pass\n", name, directory) == []


def test_a_workspace_that_lives_under_a_tests_directory_is_still_guessed_in() -> None:
    (spec,) = heuristic_functions(
        "/repo/tests/fixtures/p/main.py",
        "def handler(event, context): pass\n",
        "/repo/tests/fixtures/p",
        "aws",
    )
    assert (spec.name, spec.platform, spec.root) == (
        "main.handler",
        "aws",
        "/repo/tests/fixtures/p",
    )


@pytest.mark.parametrize(
    "source",
    [
        "def handler(event, context)\n    pass\n",  # syntax error
        "def handler(event, context): pass\n\x00\x01binary",
        "def handler(event, context): pass\n" + "#" * 600_000,  # too big to be a handler file
        "x = '\\d'\ndef handler(event, context) pass\n",
        "",
    ],
)
def test_unparseable_binary_or_huge_text_gives_nothing(source: str) -> None:
    assert _entries(source) == []


def test_invalid_escapes_do_not_warn() -> None:
    # pytest turns warnings into errors here, so a leaked SyntaxWarning would fail this.
    assert _entries("PATTERN = '\\d+'\ndef handler(event, context): pass\n") == ["main.handler"]


def test_guessed_functions_are_named_by_directory_and_rooted_at_their_file() -> None:
    (spec,) = heuristic_functions(
        "/w/api/v1/index.py", "def handler(event, context): pass\n", ROOT, "yandex"
    )
    assert (spec.name, spec.entry, spec.root, spec.declared_by) == (
        "api/v1/index.handler",
        "index.handler",
        "/w/api/v1",
        "heuristic",
    )
    assert (spec.declared_in, spec.entry_span, spec.trigger) == (None, None, None)


def test_a_workspace_with_no_declarations_lists_its_guesses() -> None:
    root = fixture("heuristic-yandex")
    model = discover(root)
    assert [(f.name, f.platform, os.path.relpath(f.root, root)) for f in model.functions] == [
        ("main.handler", "yandex", "."),
        ("main.render", "yandex", "."),
        ("api/index.handler", "yandex", "api"),
        ("scripts/tool.on_upload_handler", "yandex", "scripts"),
    ]
    assert (model.problems, model.config_files) == ([], [])


def test_guesses_follow_the_platform_setting() -> None:
    model = discover(fixture("heuristic-yandex"), platform_setting="aws")
    assert {f.platform for f in model.functions} == {"aws"}


def test_guesses_follow_a_pyproject_that_names_only_the_platform() -> None:
    model = discover(fixture("heuristic-aws"), platform_setting="yandex")
    assert [(f.name, f.platform) for f in model.functions] == [
        ("lambda_function.lambda_handler", "aws")
    ]


def test_nothing_is_guessed_where_something_is_declared() -> None:
    model = discover(fixture("sam-aws"))
    assert all(f.declared_by == "sam" for f in model.functions)


def _guess(tmp_path: Path, files: dict[str, str], target: str = "app/main.py"):  # type: ignore[no-untyped-def]
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (spec,) = [
        f for f in discover(str(tmp_path)).functions if f.root.endswith(os.path.dirname(target))
    ]
    return spec


HANDLER = "def handler(event, context):\n    return 1\n"


@pytest.mark.parametrize(
    ("files", "platform", "evidence"),
    [
        ({"app/main.py": "import boto3\n" + HANDLER}, "aws", "imports boto3"),
        (
            {"app/main.py": "from aws_lambda_powertools import Logger\n" + HANDLER},
            "aws",
            "imports aws_lambda_powertools",
        ),
        ({"cdk.json": "{}", "app/main.py": HANDLER}, "aws", "cdk.json in the workspace root"),
        ({"app/samconfig.toml": "", "app/main.py": HANDLER}, "aws", "samconfig.toml in app/"),
        (
            {"app/main.py": HANDLER.replace("return 1", "return context.identity")},
            "aws",
            "reads context.identity (AWS Lambda only)",
        ),
        ({"app/main.py": "import ydb\n" + HANDLER}, "yandex", "imports ydb"),
        (
            {"app/main.py": HANDLER.replace("return 1", "return context.token")},
            "yandex",
            "reads context.token (Yandex Cloud Functions only)",
        ),
        (
            {"infra/main.tf": 'resource "yandex_function" "f" {}\n', "app/main.py": HANDLER},
            None,
            None,
        ),
        (
            {"main.tf": 'provider "yandex" {}\n', "app/main.py": HANDLER},
            "yandex",
            "Terraform Yandex Cloud resources in the workspace root",
        ),
        # boto3 is weak: Yandex Object Storage is used through it too.
        (
            {"main.tf": 'provider "yandex" {}\n', "app/main.py": "import boto3\n" + HANDLER},
            "yandex",
            "Terraform Yandex Cloud resources in the workspace root",
        ),
        (
            {"app/requirements.txt": "aws-lambda-powertools==3.0\n", "app/main.py": HANDLER},
            "aws",
            "requirements.txt in app/ requires aws-lambda-powertools",
        ),
        # Holdout miss (a): requirements in a folder, or in a requirements-*.txt.
        (
            {"app/requirements/base.txt": "boto3==1.34\n", "app/main.py": HANDLER},
            "aws",
            "requirements/base.txt in app/ requires boto3",
        ),
        (
            {"requirements/prod.txt": "-r base.txt\nmangum\n", "app/main.py": HANDLER},
            "aws",
            "requirements/prod.txt in the workspace root requires mangum",
        ),
        (
            {"app/requirements-lambda.txt": "boto3\n", "app/main.py": HANDLER},
            "aws",
            "requirements-lambda.txt in app/ requires boto3",
        ),
        (
            {"app/requirements/prod.txt": "ydb>=3\n", "app/main.py": "import boto3\n" + HANDLER},
            "yandex",
            "requirements/prod.txt in app/ requires ydb",
        ),
        ({"app/requirements/notes.md": "boto3\n", "app/main.py": HANDLER}, None, None),
        ({"app/main.py": HANDLER}, None, None),
        # Evidence for both at the same level: unknown.
        ({"app/main.py": "import ydb\nimport aws_cdk\n" + HANDLER}, None, "imports ydb"),
    ],
)
def test_a_guess_takes_its_platform_from_evidence(
    tmp_path: Path, files: dict[str, str], platform: str | None, evidence: str | None
) -> None:
    # Issue #14 E.
    spec = _guess(tmp_path, files)
    assert spec.platform_known == (platform is not None)
    assert spec.platform == (platform or "yandex")  # Yandex stays the default for running
    if evidence:
        assert evidence in spec.platform_evidence
    elif platform is None:
        assert spec.platform_evidence == ()


def test_the_nearest_evidence_wins(tmp_path: Path) -> None:
    files = {"cdk.json": "{}", "app/main.py": "import yandexcloud\n" + HANDLER}
    spec = _guess(tmp_path, files)
    assert (spec.platform, spec.platform_evidence) == ("yandex", ("imports yandexcloud",))


def test_the_setting_wins_over_evidence(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("import ydb\n" + HANDLER)
    (spec,) = discover(str(tmp_path), platform_setting="aws").functions
    assert (spec.platform, spec.platform_known) == ("aws", True)
    assert spec.platform_evidence == ("the platform setting",)


def test_lambda_function_py_is_the_lambda_consoles_file() -> None:
    (spec,) = heuristic_functions("/w/lambda_function.py", HANDLER, ROOT, None)
    assert (spec.platform, spec.platform_known) == ("aws", True)


def test_a_guarded_context_attribute_is_no_evidence(tmp_path: Path) -> None:
    source = HANDLER.replace(
        "return 1", "if hasattr(context, 'token'):\n        return context.token"
    )
    spec = _guess(tmp_path, {"app/main.py": source})
    assert not spec.platform_known


def test_deploy_scripts_and_gateway_specs_are_evidence(tmp_path: Path) -> None:
    files = {"deploy.sh": "yc serverless function logs hello  # not a deploy: declares nothing\n"}
    spec = _guess(tmp_path, {**files, "app/main.py": HANDLER})
    assert spec.platform == "yandex"
    assert spec.platform_evidence == ("a script or spec in the workspace root uses yc serverless",)


@pytest.mark.parametrize(
    "source",
    [
        # PEP 695 and PEP 701 (Python 3.12): a 3.10/3.11 server cannot parse them.
        "import boto3\n\ntype Pair = tuple[int, int]\n\n\n" + HANDLER,
        'import boto3\n\n\ndef handler(event, context):\n    return f"{event["id"]}"\n',
        # A syntax error: the function is still there, and its check says where the error is.
        "import boto3\n\n\n" + HANDLER + "\n\ndef broken(:\n",
        "import boto3\n\n\nasync def handler(\n    event: dict,\n    context,\n) -> dict:\n"
        "    return {'x': (\n",
    ],
)
def test_a_file_this_python_cannot_parse_is_still_guessed_from_its_outline(source: str) -> None:
    # Holdout miss (c): such files were dropped silently.
    (spec,) = heuristic_functions("/w/app/main.py", source, ROOT, None)
    assert (spec.entry, spec.platform, spec.platform_known) == ("main.handler", "aws", True)
    assert spec.platform_evidence == ("imports boto3",)


def test_an_outline_keeps_only_handler_shaped_top_level_functions() -> None:
    source = (
        "import json\n\n\ndef helper(a, b, c):\n    pass\n\n\nclass C:\n"
        "    def handler(self, event, context):\n        pass\n\n\n"
        "def lambda_handler(evt, ctx, *, debug=False):\n    return {(\n"
    )
    (spec,) = heuristic_functions("/w/app/util.py", source, ROOT, None)
    assert spec.entry == "util.lambda_handler" and not spec.platform_known
