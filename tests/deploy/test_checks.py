"""Deploy checks through WorkspaceState on real files: imports the deployment lacks, stdlib
modules and grammar the runtime lacks, undeclared environment variables, and bad input."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from handlerlens.core.problems import Problem, Severity
from handlerlens.engine.workspace import WorkspaceState

DEPLOY_CODES = {
    "import-not-packaged",
    "import-removed-in-runtime",
    "syntax-newer-than-runtime",
    "env-var-undeclared",
    "imports-unchecked",
}


def sam(root: Path, runtime: str = "python3.12", env: str = "", layers: str = "") -> None:
    variables = f"      Environment:\n        Variables:\n{env}" if env else ""
    (root / "template.yaml").write_text(
        textwrap.dedent(
            f"""\
            Transform: AWS::Serverless-2016-10-31
            Resources:
              Orders:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: app/
                  Handler: app.handler
                  Runtime: {runtime}
            """
        )
        + layers
        + variables
    )


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def deploy_problems(root: Path) -> list[Problem]:
    ws = WorkspaceState(str(root), platform_setting=None)
    ws.discover()
    out = [p for ps in ws.problems_by_path().values() for p in ps if p.code in DEPLOY_CODES]
    return sorted(out, key=lambda p: (p.path, p.span.start, p.code))


def codes(problems: list[Problem]) -> list[tuple[str, int, str, Severity]]:
    return [(Path(p.path).name, p.span.start.line, p.code, p.severity) for p in problems]


def test_missing_package_is_an_error_with_the_platform_text_and_a_fix(tmp_path: Path) -> None:
    sam(tmp_path)
    write(
        tmp_path, "app/app.py", "import json\nimport requests\n\ndef handler(e, c):\n    return 1\n"
    )
    write(tmp_path, "app/requirements.txt", "PyYAML==6.0\n")
    (p,) = deploy_problems(tmp_path)
    assert (p.code, p.severity, p.span.start.line, p.span.start.character) == (
        "import-not-packaged",
        Severity.ERROR,
        1,
        7,
    )
    assert p.span.end.character == 15
    assert (
        "Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'"
        in p.message
    )
    assert "[function 'Orders' in template.yaml]" in p.message
    (fix,) = p.fixes
    assert fix.title == "Add 'requests' to app/requirements.txt"
    assert fix.path == str(tmp_path / "app" / "requirements.txt")
    assert (fix.span.start.line, fix.span.start.character, fix.new_text) == (1, 0, "requests\n")


def test_fix_creates_requirements_when_absent_and_keeps_a_missing_newline(tmp_path: Path) -> None:
    sam(tmp_path)
    write(tmp_path, "app/app.py", "import yaml\ndef handler(e, c):\n    return 1\n")
    (p,) = deploy_problems(tmp_path)
    assert "has no requirements.txt" in p.message
    (fix,) = p.fixes
    assert fix.title == "Add 'PyYAML' to app/requirements.txt"
    assert not Path(fix.path).exists() and fix.new_text == "PyYAML\n"
    write(tmp_path, "app/requirements.txt", "boto3")  # no final newline
    write(tmp_path, "app/app.py", "import ujson\ndef handler(e, c):\n    return 1\n")
    (p,) = deploy_problems(tmp_path)
    (fix,) = p.fixes
    assert (fix.span.start.line, fix.span.start.character, fix.new_text) == (0, 5, "\nujson\n")


def test_provided_imports_are_quiet(tmp_path: Path) -> None:
    sam(tmp_path)
    write(
        tmp_path,
        "app/app.py",
        """\
        from __future__ import annotations
        import os, json, tomllib
        import boto3, botocore.exceptions, dateutil.parser  # preinstalled on AWS
        import yaml                          # PyYAML in requirements (import name differs)
        import urllib3                       # a dependency of requests
        from PIL import Image                # Pillow (table)
        import helpers.db                    # the code root's own package
        from . import sibling                # relative
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import mypy_boto3_s3
        if __name__ == "__main__":
            import dotenv
        def handler(e, c):
            return 1
        """,
    )
    write(tmp_path, "app/helpers/__init__.py", "")
    write(tmp_path, "app/helpers/db.py", "import sqlite3\n")
    write(tmp_path, "app/sibling.py", "")
    write(
        tmp_path,
        "app/requirements.txt",
        "# deps\nPyYAML>=6 --hash=sha256:0000\nrequests==2.31 \\\n  --hash=sha256:1111\npillow\n",
    )
    assert deploy_problems(tmp_path) == []


def test_helper_modules_are_followed_and_guarded_imports_are_info(tmp_path: Path) -> None:
    sam(tmp_path)
    write(tmp_path, "app/app.py", "from lib.util import go\ndef handler(e, c):\n    return 1\n")
    write(tmp_path, "app/lib/__init__.py", "")
    write(
        tmp_path,
        "app/lib/util.py",
        """\
        import pandas
        try:
            import ujson as json
        except ImportError:
            import json
        def go():
            import numpy
        """,
    )
    write(tmp_path, "app/requirements.txt", "boto3\n")
    got = codes(deploy_problems(tmp_path))
    assert got == [
        ("util.py", 0, "import-not-packaged", Severity.ERROR),
        ("util.py", 2, "import-not-packaged", Severity.INFO),
        ("util.py", 6, "import-not-packaged", Severity.ERROR),
    ]


def test_removed_stdlib_per_runtime(tmp_path: Path) -> None:
    code = "import imp\nimport cgi\nimport distutils.core\ndef handler(e, c):\n    return 1\n"
    write(tmp_path, "app/app.py", code)
    sam(tmp_path, "python3.11")
    assert deploy_problems(tmp_path) == []
    sam(tmp_path, "python3.12")
    got = deploy_problems(tmp_path)
    assert [(p.span.start.line, p.code) for p in got] == [
        (0, "import-removed-in-runtime"),
        (2, "import-removed-in-runtime"),
    ]
    assert "removed from the standard library in Python 3.12" in got[0].message
    assert "No module named 'imp'" in got[0].message
    sam(tmp_path, "python3.13")
    assert [p.span.start.line for p in deploy_problems(tmp_path)] == [0, 1, 2]
    # setuptools in the requirements provides distutils again.
    write(tmp_path, "app/requirements.txt", "setuptools\n")
    assert [p.span.start.line for p in deploy_problems(tmp_path)] == [0, 1]


def test_a_module_newer_than_the_runtime(tmp_path: Path) -> None:
    write(tmp_path, "app/app.py", "import tomllib\ndef handler(e, c):\n    return 1\n")
    sam(tmp_path, "python3.10")
    (p,) = deploy_problems(tmp_path)
    assert (
        p.code == "import-removed-in-runtime"
        and "not in the standard library of Python 3.10" in p.message
    )


def test_syntax_newer_than_runtime(tmp_path: Path) -> None:
    write(
        tmp_path,
        "app/app.py",
        """\
        def handler(event, context):
            match event:
                case {"a": 1}:
                    return 1
            return 2
        """,
    )
    sam(tmp_path, "python3.9")
    (p,) = deploy_problems(tmp_path)
    assert p.code == "syntax-newer-than-runtime" and p.severity == Severity.ERROR
    assert (p.span.start.line, p.span.start.character, p.span.end.character) == (1, 4, 9)
    assert "Pattern matching is only supported in Python 3.10" in p.message
    assert "Runtime.UserCodeSyntaxError" in p.message
    sam(tmp_path, "python3.10")
    assert deploy_problems(tmp_path) == []
    write(
        tmp_path,
        "app/app.py",
        "def handler(e, c):\n    try:\n        pass\n    except* ValueError:\n        pass\n",
    )
    (p,) = deploy_problems(tmp_path)
    assert "Exception groups" in p.message and p.span.start.line == 1


def test_env_var_undeclared(tmp_path: Path) -> None:
    sam(tmp_path, env="          TABLE_NAME: orders\n          QUEUE: !Ref Queue\n")
    write(
        tmp_path,
        "app/app.py",
        """\
        import os
        from os import environ
        def handler(event, context):
            a = os.environ["TABLE_NAME"]      # declared
            b = os.environ["QUEUE"]           # declared (value computed)
            c = os.environ["AWS_REGION"]      # set by the platform
            d = os.environ["BUCKET"]          # missing
            e = environ["URL"]                # missing, via from-import
            f = os.environ.get("OPTIONAL")    # None is fine
            g = int(os.getenv("LIMIT"))       # None is not
            if "MAYBE" in os.environ:
                h = os.environ["MAYBE"]
            try:
                i = os.environ["TRIED"]
            except KeyError:
                i = None
            return 1
        """,
    )
    got = deploy_problems(tmp_path)
    assert [(p.span.start.line, p.severity) for p in got] == [
        (6, Severity.WARNING),
        (7, Severity.WARNING),
        (9, Severity.WARNING),
    ]
    assert got[0].message.startswith(
        "KeyError on deploy: 'BUCKET' is not in function 'Orders' environment (template.yaml)"
    )
    assert (got[0].span.start.character, got[0].span.end.character) == (19, 27)
    # Quick fix: declared beside the function's other variable, in the same style.
    (fix,) = got[0].fixes
    assert fix.title == "Declare 'BUCKET' in template.yaml (beside 'TABLE_NAME')"
    template = (tmp_path / "template.yaml").read_text().split("\n")
    row = next(i for i, line in enumerate(template) if "TABLE_NAME: orders" in line)
    assert (fix.span.start.line, fix.span.start.character) == (row, len(template[row]))
    assert fix.new_text == '\n          BUCKET: ""'


def test_env_computed_elsewhere_is_not_judged(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
        "  environment: ${file(./env.yml)}\nfunctions:\n  f:\n    handler: app.handler\n"
    )
    write(tmp_path, "app.py", "import os\ndef handler(e, c):\n    return os.environ['X']\n")
    assert deploy_problems(tmp_path) == []


def test_layers_and_unknown_dependencies_are_not_claimed(tmp_path: Path) -> None:
    sam(tmp_path, layers="      Layers:\n        - !Ref Common\n")
    write(
        tmp_path, "app/app.py", "import aws_lambda_powertools\ndef handler(e, c):\n    return 1\n"
    )
    (p,) = deploy_problems(tmp_path)
    assert p.severity == Severity.INFO and "layers" in p.message
    sam(tmp_path)
    write(tmp_path, "app/requirements.txt", "some-unknown-dist-xyz\n")
    (p,) = deploy_problems(tmp_path)
    assert p.severity == Severity.INFO and "could not decide" in p.message


def test_bad_requirements_do_not_break_the_check(tmp_path: Path) -> None:
    sam(tmp_path)
    write(
        tmp_path,
        "app/app.py",
        "import requests, yaml, mylib, other\ndef handler(e, c):\n    return 1\n",
    )
    write(
        tmp_path,
        "app/requirements.txt",
        "-r more.txt\n-c constraints.txt\n!!! not a requirement\n"
        "-e git+https://github.com/x/mylib.git#egg=mylib\n"
        "requests==2.31 --hash=sha256:abc --hash=sha256:def\n",
    )
    write(tmp_path, "app/more.txt", "-r requirements.txt\nPyYAML\n")  # a loop
    (p,) = deploy_problems(tmp_path)
    # mylib is not installed here: what it brings is unknown, so 'other' is not claimed.
    assert "'other'" in p.message and p.severity == Severity.INFO
    assert "dependency of mylib" in p.message
    write(
        tmp_path, "app/app.py", "import requests, yaml, other\ndef handler(e, c):\n    return 1\n"
    )
    req = tmp_path / "app" / "requirements.txt"
    req.write_text(req.read_text().replace("-e git+https://github.com/x/mylib.git#egg=mylib\n", ""))
    (p,) = deploy_problems(tmp_path)
    assert "'other'" in p.message and p.severity == Severity.ERROR
    # A URL that names nothing: what it installs is unknown, so no error.
    write(tmp_path, "app/more.txt", "https://example.com/dist/thing-1.0.tar.gz\n")
    got = deploy_problems(tmp_path)
    assert got and all(q.severity == Severity.INFO for q in got)


def test_unparsable_helper_circular_imports_star_and_dynamic(tmp_path: Path) -> None:
    sam(tmp_path)
    write(
        tmp_path,
        "app/app.py",
        """\
        import importlib
        from a import *
        import broken
        def handler(e, c):
            importlib.import_module("nothere")
            __import__("nor_this")
            return 1
        """,
    )
    write(tmp_path, "app/a.py", "import b\n")
    write(tmp_path, "app/b.py", "import a\nimport app\n")
    write(tmp_path, "app/broken.py", "import json\nfrom os import (path,\n")
    (p,) = deploy_problems(tmp_path)
    assert p.code == "imports-unchecked" and p.severity == Severity.INFO
    assert "broken.py does not parse" in p.message and p.span.start.line == 2


def test_a_huge_code_root_stops_with_a_note(tmp_path: Path) -> None:
    sam(tmp_path)
    app = tmp_path / "app"
    app.mkdir()
    # A chain of 2,500 modules, each importing the next, in a folder of 10,000 modules.
    for i in range(10_000):
        (app / f"m{i}.py").write_text(f"import m{i + 1}\n" if i < 2_500 else "")
    (app / "app.py").write_text("import m0\ndef handler(e, c):\n    return 1\n")
    start = time.perf_counter()
    got = deploy_problems(tmp_path)
    assert time.perf_counter() - start < 30
    (p,) = got
    assert p.code == "imports-unchecked" and "stopped after 2000 modules" in p.message


def test_a_heuristic_function_is_not_judged_for_packaging(tmp_path: Path) -> None:
    write(tmp_path, "main.py", "import requests\ndef handler(event, context):\n    return 1\n")
    assert deploy_problems(tmp_path) == []


def test_editing_a_helper_or_the_requirements_updates(tmp_path: Path) -> None:
    sam(tmp_path)
    write(tmp_path, "app/app.py", "import helper\ndef handler(e, c):\n    return 1\n")
    helper = write(tmp_path, "app/helper.py", "import json\n")
    ws = WorkspaceState(str(tmp_path))
    ws.discover()
    assert not [p for p in ws.deploy.problems()]
    ws.sources.set_overlay(str(helper), "import json\nimport requests\n")
    touched = ws.python_changed(str(helper))
    assert str(helper) in touched
    (p,) = ws.deploy.problems()
    assert p.code == "import-not-packaged"
    req = write(tmp_path, "app/requirements.txt", "requests\n")
    ws.python_changed(str(req))
    assert ws.deploy.problems() == []
    # A helper created after the import naming it was written.
    ws.sources.set_overlay(str(helper), "import json\nimport storage\n")
    ws.python_changed(str(helper))
    (p,) = ws.deploy.problems()
    assert "'storage'" in p.message
    created = write(tmp_path, "app/storage/__init__.py", "")
    ws.python_changed(str(created))
    assert ws.deploy.problems() == []


def test_fallbacks_duplicates_and_requirement_names(tmp_path: Path) -> None:
    sam(tmp_path)
    write(
        tmp_path,
        "app/app.py",
        """\
        try:
            from schemas import OUT
        except ImportError:
            from src.schemas import OUT      # the fallback for tests: not needed deployed
        import pandas
        from pandas import DataFrame         # the same module: reported once, at the first
        import strands                       # from strands-agents, not installed here
        import opensearchpy                  # from opensearch-py
        def handler(e, c):
            return 1
        """,
    )
    write(tmp_path, "app/schemas.py", "OUT = {}\n")
    write(tmp_path, "app/requirements.txt", "strands-agents\nopensearch-py\n")
    got = deploy_problems(tmp_path)
    assert [(p.span.start.line, p.code) for p in got] == [(4, "import-not-packaged")]
    assert got[0].severity == Severity.INFO  # strands-agents' dependencies are unknown here


def test_terraform_layers_in_a_local_module(tmp_path: Path) -> None:
    write(
        tmp_path,
        "main.tf",
        """\
        module "fn" {
          source  = "./modules/lambda"
          handler = "app.handler"
          file    = "./src/app.py"
        }
        data "archive_file" "zip" {
          type        = "zip"
          source_dir  = "${path.module}/src"
          output_path = "${path.module}/fn.zip"
        }
        resource "aws_lambda_function" "direct" {
          function_name = "direct"
          filename      = data.archive_file.zip.output_path
          handler       = "app.handler"
          runtime       = "python3.12"
          role          = "arn"
        }
        """,
    )
    write(
        tmp_path,
        "modules/lambda/main.tf",
        """\
        variable "handler" {}
        variable "file" {}
        resource "aws_lambda_function" "f" {
          function_name = "f"
          handler       = var.handler
          runtime       = "python3.12"
          layers        = ["arn:aws:lambda:eu-west-1:017000801446:layer:Powertools:13"]
        }
        """,
    )
    write(
        tmp_path, "src/app.py", "import aws_lambda_powertools\ndef handler(e, c):\n    return 1\n"
    )
    got = deploy_problems(tmp_path)
    assert got and all(p.severity == Severity.INFO and "layers" in p.message for p in got)


def test_yandex_function_in_pyproject(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        """\
        [project]
        name = "fn"
        version = "0"
        dependencies = ["PyYAML>=6", "ydb; python_version >= '3.8'"]

        [tool.handlerlens]
        platform = "yandex"
        runtime = "python312"
        entry = "main.handler"
        env = { STAGE = "dev" }
        """,
    )
    write(
        tmp_path,
        "main.py",
        """\
        import os, yaml, ydb, grpc, requests, asyncore
        def handler(event, context):
            return os.environ["STAGE"] + os.environ["TOKEN"]
        """,
    )
    got = deploy_problems(tmp_path)
    assert [(p.code, p.span.start.character) for p in got] == [
        ("import-not-packaged", 28),  # requests (ydb brings grpc)
        ("import-removed-in-runtime", 38),  # asyncore on 3.12
        ("env-var-undeclared", 44),
    ]
    assert 'Yandex Cloud Functions would fail with "ModuleNotFoundError: No module named' in (
        got[0].message
    )
    assert "Add 'requests' to pyproject.toml" in got[0].message and not got[0].fixes


def test_scan_and_requirements_never_raise() -> None:
    """Any text: a scan or a requirements file, never an exception."""
    import random

    from handlerlens.deploy.grammar import older_grammar_error
    from handlerlens.deploy.manifest import Manifest, read_requirements
    from handlerlens.deploy.scan import scan_file

    rng = random.Random(19)
    pieces = [
        "import ",
        "from ",
        " . ",
        "os.environ[",
        "getenv(",
        '"X"',
        "'",
        "(",
        ")",
        "[",
        "]",
        "\n",
        "    ",
        "try:",
        "except ImportError:",
        "-r ",
        "-e ",
        "--hash=",
        "#",
        "\\",
        "@",
        "; python_version < '3'",
        "==",
        "git+https://x/y#egg=",
        "match x:",
        "case 1:",
        "*",
        "\x00",
        "é",
        "\t",
        "def f(",
        ":",
        "if TYPE_CHECKING:",
        "__import__(",
    ]
    for i in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        scan_file(f"/fuzz/{i}.py", text)
        older_grammar_error(text, (3, 8))
        read_requirements(f"/fuzz/{i}.txt", Manifest(), (3, 12), text=text)


def test_an_included_requirements_file_edited(tmp_path: Path) -> None:
    sam(tmp_path)
    write(tmp_path, "app/app.py", "import requests\ndef handler(e, c):\n    return 1\n")
    write(tmp_path, "app/requirements.txt", "-r base.txt\n")
    base = write(tmp_path, "app/base.txt", "boto3\n")
    ws = WorkspaceState(str(tmp_path))
    ws.discover()
    (p,) = ws.deploy.problems()
    assert "'requests'" in p.message
    base.write_text("boto3\nrequests==2.32.0\n")
    ws.python_changed(str(base))
    assert ws.deploy.problems() == []


def test_a_helper_shared_by_functions_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: python3.12\n"
        "    CodeUri: src/\nResources:\n"
        "  A:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: a.handler\n"
        "  B:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: b.handler\n"
    )
    for name in ("a", "b"):
        write(tmp_path, f"src/{name}.py", "import shared\ndef handler(e, c):\n    return 1\n")
    write(tmp_path, "src/shared.py", "import requests\n")
    (p,) = deploy_problems(tmp_path)
    assert p.message.endswith(" [functions 'A', 'B' in template.yaml]")
    assert p.message.count("would fail with") == 1
    assert "Unable to import module '<the handler module>': No module named 'requests'" in (
        p.message
    )


def test_a_local_sam_layer_provides_modules(tmp_path: Path) -> None:
    sam(tmp_path, layers="      Layers:\n        - !Ref Common\n        - !Ref Deps\n")
    with (tmp_path / "template.yaml").open("a") as f:
        f.write(
            "  Common:\n    Type: AWS::Serverless::LayerVersion\n"
            "    Properties:\n      ContentUri: layers/common\n"
            "  Deps:\n    Type: AWS::Serverless::LayerVersion\n"
            "    Properties:\n      ContentUri: layers/deps\n"
            "    Metadata:\n      BuildMethod: python3.12\n"
        )
    write(tmp_path, "layers/common/python/shared.py", "")
    write(tmp_path, "layers/deps/requirements.txt", "PyYAML\n")
    write(tmp_path, "app/app.py", "import shared, yaml, pandas\ndef handler(e, c):\n    return 1\n")
    (p,) = deploy_problems(tmp_path)
    assert "'pandas'" in p.message and p.severity == Severity.INFO and "layers" in p.message


def test_a_local_serverless_layer_provides_modules(tmp_path: Path) -> None:
    # As SAM's: a layer's python/ folder and the packages its requirements.txt installs.
    (tmp_path / "serverless.yml").write_text(
        "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
        "layers:\n  common:\n    path: layers/common\n  deps:\n    path: layers/deps\n"
        "functions:\n  f:\n    handler: app.handler\n    layers:\n"
        "      - !Ref CommonLambdaLayer\n      - {Ref: DepsLambdaLayer}\n"
        "    events:\n      - http:\n          path: /x\n"
    )
    write(tmp_path, "layers/common/python/shared/__init__.py", "")
    write(tmp_path, "layers/deps/requirements.txt", "PyYAML\n")
    write(tmp_path, "app.py", "import shared, yaml, pandas\ndef handler(e, c):\n    return 1\n")
    (p,) = deploy_problems(tmp_path)
    assert "'pandas'" in p.message and p.severity == Severity.INFO


def _invalid(root: Path) -> list[Problem]:
    ws = WorkspaceState(str(root), platform_setting=None)
    ws.discover()
    out = [p for ps in ws.problems_by_path().values() for p in ps if p.code == REQ_INVALID]
    return sorted(out, key=lambda p: (p.path, p.span.start))


REQ_INVALID = "requirements-invalid"


def test_requirement_lines_pip_rejects(tmp_path: Path) -> None:
    # pip stops at a line it cannot read and at an include it cannot open: `sam build` (and
    # Yandex's build) fail with it. Options, hashes, URLs, paths, ${VARS}, continuations and
    # comments are pip's to read: never said.
    sam(tmp_path)
    write(tmp_path, "app/app.py", "import requests\ndef handler(e, c):\n    return 1\n")
    req = write(
        tmp_path,
        "app/requirements.txt",
        """\
        # the function's packages
        requests==2.31 --hash=sha256:abc  # pinned
        -i https://pypi.org/simple
        -e git+https://github.com/x/mylib.git#egg=mylib
        ./local/pkg
        https://example.com/thing-1.0.tar.gz
        ${PRIVATE_INDEX}/x.whl
        boto3>=1.28 ; python_version >= "3.8"
        pyyaml \\
          ==6.0
          !!! not a requirement
        flask=2.0
        -r more.txt
        -c constraints.txt
        -r other.txt
        """,
    )
    write(tmp_path, "app/other.txt", "-r requirements.txt\n")  # a loop: pip reads it once
    got = _invalid(tmp_path)
    assert [(p.span.start.line, p.span.start.character, p.span.end.character) for p in got] == [
        (10, 2, 23),
        (11, 0, 9),
        (12, 0, 11),
        (13, 0, 18),
    ]
    assert all(p.severity == Severity.ERROR and p.path == str(req) for p in got)
    assert (
        got[1].message.startswith("pip cannot read requirements.txt line 12 as a requirement (")
        and "ERROR: Invalid requirement: 'flask=2.0'" in got[1].message
    )
    assert got[1].message.endswith("[function 'Orders' in template.yaml]")
    assert "Could not open requirements file" in got[2].message and "more.txt" in got[2].message
    # Creating the included file is seen, as is a fixed line.
    write(tmp_path, "app/more.txt", "PyYAML\n")
    write(tmp_path, "app/constraints.txt", "")
    req.write_text(req.read_text().replace("flask=2.0", "flask==2.0"))
    assert [p.span.start.line for p in _invalid(tmp_path)] == [10]
    # An included file's own lines are pip's too (the loop through other.txt is read once).
    write(tmp_path, "app/constraints.txt", "urllib3<2\nurllib3 = 1.26\n")
    got = _invalid(tmp_path)
    assert [(Path(p.path).name, p.span.start.line) for p in got] == [
        ("constraints.txt", 1),
        ("requirements.txt", 10),
    ]
    assert "pip cannot read constraints.txt line 2" in got[0].message


def test_requirements_pip_never_reads_are_not_judged(tmp_path: Path) -> None:
    # A Terraform zip of an AWS function installs nothing: its requirements.txt is not pip's.
    write(tmp_path, "app/app.py", "def handler(e, c):\n    return 1\n")
    write(tmp_path, "app/requirements.txt", "flask=2.0\n")
    write(
        tmp_path,
        "main.tf",
        """\
        data "archive_file" "app" {
          type        = "zip"
          source_dir  = "${path.module}/app"
          output_path = "app.zip"
        }
        resource "aws_lambda_function" "app" {
          function_name = "app"
          filename      = data.archive_file.app.output_path
          handler       = "app.handler"
          runtime       = "python3.12"
          role          = "arn:aws:iam::123456789012:role/x"
        }
        """,
    )
    assert _invalid(tmp_path) == []
    (tmp_path / "main.tf").unlink()
    sam(tmp_path)
    assert len(_invalid(tmp_path)) == 1
