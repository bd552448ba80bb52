"""Where a SAM/CloudFormation function's code is: a folder, a zip, one file, inline, or not
there yet — and what is checked in each case (issue 14: B, H, M)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from handlerlens.core.problems import Problem, Severity
from handlerlens.engine.workspace import WorkspaceState


def _template(code: str, handler: str = "index.handler", kind: str = "Serverless") -> str:
    return (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Fn:\n"
        f"    Type: AWS::{kind}::Function\n"
        "    Properties:\n"
        f"      Handler: {handler}\n"
        "      Runtime: python3.12\n"
        f"      {code}\n"
    )


def _check(root: Path) -> tuple[int, list[Problem]]:
    ws = WorkspaceState(str(root))
    ws.discover()
    problems = [p for ps in ws.problems_by_path().values() for p in ps]
    return len(ws.functions), problems


def _zip(path: Path, members: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)


HANDLER = "def handler(event, context):\n    return {}\n"


# B: code in an archive.


def test_module_inside_the_zip_is_found(tmp_path: Path) -> None:
    _zip(tmp_path / "src" / "index.zip", {"index.py": HANDLER})
    (tmp_path / "template.yaml").write_text(_template("CodeUri: src/index.zip"))
    assert _check(tmp_path) == (1, [])


def test_package_module_inside_the_zip_is_found(tmp_path: Path) -> None:
    _zip(tmp_path / "fn.zip", {"app/__init__.py": "", "app/main.py": HANDLER})
    (tmp_path / "template.yaml").write_text(_template("CodeUri: fn.zip", "app/main.handler"))
    assert _check(tmp_path) == (1, [])


def test_zip_without_the_module_is_an_error_naming_the_archive_and_its_modules(
    tmp_path: Path,
) -> None:
    _zip(tmp_path / "src" / "index.zip", {"app.py": HANDLER, "utils.py": "", "README": ""})
    (tmp_path / "template.yaml").write_text(_template("CodeUri: src/index.zip"))
    functions, (problem,) = _check(tmp_path)
    assert functions == 1
    assert (problem.code, problem.severity) == ("entry-point-module-missing", Severity.ERROR)
    assert problem.path == str(tmp_path / "template.yaml")
    assert problem.span.start.line == 6  # the Handler value
    assert "there is no index.py (nor a package index/) in the archive src/index.zip" in (
        problem.message
    )
    assert "its modules: app, utils" in problem.message
    assert "Unable to import module 'index'" in problem.message


def test_a_zip_not_built_yet_is_an_info_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(_template("CodeUri: build/index.zip"))
    functions, (problem,) = _check(tmp_path)
    assert functions == 1
    assert (problem.code, problem.severity) == ("code-root-unresolved", Severity.INFO)
    assert "the archive build/index.zip does not exist (yet)" in problem.message
    assert "was not checked" in problem.message


def test_a_broken_zip_is_an_info_saying_so(tmp_path: Path) -> None:
    (tmp_path / "code.zip").write_bytes(b"not a zip")
    (tmp_path / "template.yaml").write_text(_template("CodeUri: code.zip"))
    _, (problem,) = _check(tmp_path)
    assert (problem.code, problem.severity) == ("code-root-unresolved", Severity.INFO)
    assert "is not a readable zip" in problem.message


def test_cloudformation_code_given_as_a_zip_path_is_read_too(tmp_path: Path) -> None:
    _zip(tmp_path / "lambda.zip", {"lambda_function.py": HANDLER})
    (tmp_path / "stack.yaml").write_text(
        _template("Code: lambda.zip", "lambda_function.handler", kind="Lambda")
    )
    assert _check(tmp_path) == (1, [])


# Inline code: the module is `index`.


def test_inline_code_with_the_index_module_and_function_is_clean(tmp_path: Path) -> None:
    code = "Code:\n        ZipFile: |\n          def handler(event, context):\n            return 1"
    (tmp_path / "stack.yaml").write_text(_template(code, kind="Lambda"))
    assert _check(tmp_path) == (1, [])


def test_inline_code_under_another_module_name_is_a_placeholder_info_with_a_fix(
    tmp_path: Path,
) -> None:
    code = "InlineCode: |\n        def handler(event, context):\n          return 1"
    (tmp_path / "template.yaml").write_text(_template(code, "app.handler"))
    _, (problem,) = _check(tmp_path)
    assert (problem.code, problem.severity) == ("code-root-unresolved", Severity.INFO)
    assert "saved as index.py but the handler names the module 'app'" in problem.message
    assert "looks like a placeholder that a later step replaces" in problem.message
    assert [fix.new_text for fix in problem.fixes] == ["index.handler"]


def test_inline_code_without_the_function_is_an_error(tmp_path: Path) -> None:
    code = "InlineCode: |\n        def main(event, context):\n          return 1"
    (tmp_path / "template.yaml").write_text(_template(code, "index.handle"))
    _, (problem,) = _check(tmp_path)
    assert problem.code == "entry-point-function-missing"
    assert "the inline code has no top-level 'handle'" in problem.message


# H: CodeUri naming one .py file.


def test_a_single_py_file_code_uri_is_that_module(tmp_path: Path) -> None:
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "resize.py").write_text(HANDLER)
    (tmp_path / "template.yaml").write_text(
        _template("CodeUri: functions/resize.py", "resize.handler")
    )
    ws = WorkspaceState(str(tmp_path))
    ws.discover()
    (report,) = ws.reports
    assert report.problems == [] and report.target is not None
    assert report.target.path == str(tmp_path / "functions" / "resize.py")


def test_a_single_file_code_uri_with_another_module_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "resize.py").write_text(HANDLER)
    (tmp_path / "other.py").write_text(HANDLER)  # beside it, but not packaged
    (tmp_path / "template.yaml").write_text(_template("CodeUri: resize.py", "other.handler"))
    problems = [p for p in _check(tmp_path)[1] if p.code == "entry-point-module-missing"]
    (problem,) = problems
    assert "the single file resize.py, which is packaged alone" in problem.message


# M: a code root that cannot be resolved is an info that says why, never another folder.


@pytest.mark.parametrize(
    "code_uri",
    [".aws-sam/build/Fn", "dist/fn", "build/lambda", "target/handler"],
)
def test_a_build_output_not_there_is_an_info_not_a_missing_module(
    tmp_path: Path, code_uri: str
) -> None:
    (tmp_path / "index.py").write_text(HANDLER)  # beside the template: must not be used
    (tmp_path / "template.yaml").write_text(_template(f"CodeUri: {code_uri}"))
    functions, (problem,) = _check(tmp_path)
    assert functions == 0
    assert (problem.code, problem.severity) == ("code-root-unresolved", Severity.INFO)
    assert f"in {code_uri}, a build output that is not there yet" in problem.message


@pytest.mark.parametrize(
    ("code_uri", "says"),
    [
        ("!Ref CodeLocation", "deployed from S3 or from a value computed at deploy time"),
        ("'${CODE_DIR}/fn'", "holds a placeholder that another tool fills in"),
        ("!Sub '${Root}/fn'", "deployed from S3 or from a value computed at deploy time"),
    ],
)
def test_a_computed_code_root_is_an_info_not_a_missing_module(
    tmp_path: Path, code_uri: str, says: str
) -> None:
    (tmp_path / "index.py").write_text("x = 1\n")  # would be "function missing" if used
    (tmp_path / "template.yaml").write_text(_template(f"CodeUri: {code_uri}"))
    functions, (problem,) = _check(tmp_path)
    assert functions == 0
    assert (problem.code, problem.severity) == ("config-value-unresolved", Severity.INFO)
    assert says in problem.message


def test_a_missing_source_folder_is_reported_about_that_folder(tmp_path: Path) -> None:
    # Not a build output: the deploy would fail to find it. Both problems name the declared
    # folder, never the template's own.
    (tmp_path / "index.py").write_text(HANDLER)
    (tmp_path / "template.yaml").write_text(_template("CodeUri: src/hello"))
    functions, problems = _check(tmp_path)
    assert functions == 1
    assert sorted((p.code, p.severity) for p in problems) == [
        ("code-root-missing", Severity.WARNING),
        ("entry-point-module-missing", Severity.ERROR),
    ]
    assert all(str(tmp_path / "src" / "hello") in p.message for p in problems)


def test_a_runtime_parameter_defaulting_to_another_language_is_not_python(
    tmp_path: Path,
) -> None:
    (tmp_path / "stack.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Parameters:\n  Rt: {Type: String, Default: nodejs18.x}\n"
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        "      Handler: index.handler\n      Runtime: !Ref Rt\n"
        "      Code:\n        ZipFile: |\n          exports.handler = async (e) => ({});\n"
    )
    assert _check(tmp_path) == (0, [])
    # With a Python default the same function is read, and its inline code checked.
    text = (tmp_path / "stack.yaml").read_text().replace("nodejs18.x", "python3.12")
    (tmp_path / "stack.yaml").write_text(text)
    functions, (problem,) = _check(tmp_path)
    assert functions == 1 and problem.code == "entry-point-syntax-error"


def test_inline_code_that_is_not_python_behind_a_computed_runtime_is_not_listed(
    tmp_path: Path,
) -> None:
    (tmp_path / "stack.yaml").write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        "      Handler: index.handler\n      Runtime: !ImportValue SharedRuntime\n"
        "      Code:\n        ZipFile: |\n          exports.handler = async (e) => ({});\n"
    )
    assert _check(tmp_path) == (0, [])


def test_inline_code_under_sub_is_checked_when_it_parses(tmp_path: Path) -> None:
    code = (
        "Code:\n        ZipFile: !Sub |\n          import os\n"
        "          ARN = 'arn:aws:s3:::${Bucket}'\n"
        "          def handler(event, context):\n            return ARN"
    )
    (tmp_path / "stack.yaml").write_text(_template(code, "index.handler", kind="Lambda"))
    assert _check(tmp_path) == (1, [])
    (tmp_path / "stack.yaml").write_text(_template(code, "index.main", kind="Lambda"))
    _, (problem,) = _check(tmp_path)
    assert problem.code == "entry-point-function-missing"
    # The list form, `!Sub [code, {variables}]`, is read the same way.
    listed = (
        "Code:\n        ZipFile: !Sub\n          - |\n            import os\n"
        "            ARN = 'arn:aws:s3:::${Bucket}'\n"
        "            def handler(event, context):\n              return ARN\n"
        "          - {Bucket: b}"
    )
    (tmp_path / "stack.yaml").write_text(_template(listed, kind="Lambda"))
    assert _check(tmp_path) == (1, [])
    # `${…}` outside a string is not Python until substituted: an info, as before.
    broken = code.replace("return ARN", "return ${Value}")
    (tmp_path / "stack.yaml").write_text(_template(broken, "index.handler", kind="Lambda"))
    functions, (problem,) = _check(tmp_path)
    assert functions == 0 and problem.code == "config-value-unresolved"
